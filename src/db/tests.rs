use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

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
