use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::*;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn open(path: &Path) -> DbConnection {
    let mut c = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    c.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
        .unwrap();
    DbConnection::Sqlite(c)
}

/// Two connections (a server's pool and the CLI beside it) that each read and then write: with
/// a deferred BEGIN, the second to write meets SQLITE_BUSY however long it would wait.
#[test]
fn read_then_write_transactions_of_two_connections_queue_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut setup = open(&path);
    setup
        .batch_execute(
            "CREATE TABLE users (tenant TEXT); CREATE TABLE c (n BIGINT NOT NULL);
             INSERT INTO c VALUES (0);",
        )
        .unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut conn = open(&path);
                for _ in 0..100 {
                    write_transaction(&mut conn, |c| {
                        let now: Count = diesel::sql_query("SELECT n FROM c").get_result(c)?;
                        std::thread::yield_now();
                        diesel::sql_query(format!("UPDATE c SET n = {}", now.n + 1)).execute(c)?;
                        Ok::<_, DbError>(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total: Count = diesel::sql_query("SELECT n FROM c")
        .get_result(&mut setup)
        .unwrap();
    assert_eq!(total.n, 200, "every increment kept: no lost update either");
}

/// A pool of one connection under `deadline`, its database (at the path answered) holding a
/// counter table.
fn counter_db_within(dir: &Path, deadline: Duration) -> (Db, PathBuf) {
    let path = dir.join("g.db");
    open(&path)
        .batch_execute(
            "CREATE TABLE users (tenant TEXT); CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);",
        )
        .unwrap();
    let db = Db::new(&DatabaseUrl::Sqlite(path.clone()), 1, deadline).unwrap();
    (db, path)
}

fn counter_db(dir: &Path) -> Db {
    counter_db_within(dir, Duration::from_secs(5)).0
}

/// Holds the only database thread of `db` until the sender is used: what is submitted meanwhile
/// queues. The handle answers the holding call.
fn hold_the_thread(
    db: &Db,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<Result<(), DbError>>,
) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let db = db.clone();
    let holder = tokio::spawn(async move {
        db.run(move |_| {
            held.recv().unwrap();
            Ok(())
        })
        .await
    });
    (release, holder)
}

/// Writes queued while the one database thread is busy share one commit; one that fails is
/// rolled back alone, and each caller gets its own answer, once the commit is made.
#[tokio::test(flavor = "multi_thread")]
async fn writes_queued_during_a_commit_share_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = counter_db(dir.path());
    // Hold the only thread until every write is queued.
    let (release, holder) = hold_the_thread(&db);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = db.commits();
    let writes: Vec<_> = (0..20_i64)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.run_batched(move |c| {
                    diesel::sql_query(format!("INSERT INTO c VALUES ({i}, {i})")).execute(c)?;
                    if i == 7 {
                        // Fails after writing: its insert must not survive.
                        diesel::sql_query("INSERT INTO c VALUES (0, 0)").execute(c)?;
                    }
                    Ok(i)
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    for (i, w) in (0..20_i64).zip(writes) {
        match w.await.unwrap() {
            Ok(n) => assert_eq!(n, i),
            Err(e) => assert!(i == 7 && e.is_unique_violation(), "write {i}: {e}"),
        }
    }
    assert_eq!(db.commits() - before, 1, "twenty writes, one commit");
    let rows = db
        .run(|c| {
            let n: Count = diesel::sql_query("SELECT count(*) AS n FROM c").get_result(c)?;
            let seven: Count =
                diesel::sql_query("SELECT count(*) AS n FROM c WHERE id = 7").get_result(c)?;
            Ok((n.n, seven.n))
        })
        .await
        .unwrap();
    assert_eq!(
        rows,
        (19, 0),
        "the failed write's own insert rolled back, the others kept"
    );
}

/// More calls in flight than connections wait in the queue for a thread, not on threads of
/// their own: with one connection, every call runs on the one database thread.
#[tokio::test(flavor = "multi_thread")]
async fn calls_beyond_the_pool_wait_in_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let db = counter_db(dir.path());
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let (db, threads) = (db.clone(), threads.clone());
            tokio::spawn(async move {
                db.run(move |_| {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    std::thread::sleep(Duration::from_millis(2));
                    Ok(())
                })
                .await
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(threads.lock().unwrap().len(), 1, "32 calls, one connection");
}

/// Writes whose shared transaction cannot begin (another process holds the write lock past the
/// busy timeout) did not run: their callers hear of an outage (503, the attempt given back), not
/// of a bug.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_commit_that_cannot_begin_is_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let (db, path) = counter_db_within(dir.path(), Duration::from_millis(300));
    let mut other = open(&path);
    other.batch_execute("BEGIN IMMEDIATE").unwrap();
    // Hold the only thread until both writes are queued, so that they share a batch.
    let (release, holder) = hold_the_thread(&db);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let writes: Vec<_> = (0..2_i64)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.run_batched_to_end(move |c| {
                    diesel::sql_query(format!("INSERT INTO c VALUES ({i}, {i})")).execute(c)?;
                    Ok(())
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    for w in writes {
        let e = w.await.unwrap().unwrap_err();
        assert!(e.is_unavailable(), "{e:?}");
    }
    other.batch_execute("ROLLBACK").unwrap();
}
