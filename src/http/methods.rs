//! A path that exists under other methods answers 405 `method_not_allowed` with `Allow` (RFC 9110
//! §15.5.6); only a path that exists under no method is 404 (issue 16).
//!
//! actix registers one resource per method (the route macros put the method guard on the
//! resource), so a request whose method matches none falls through to the default service, which
//! would answer 404. The API's methods per path come from its OpenAPI document, which describes
//! exactly the routes [`super::register`] adds; the pages and the console, which are not in it,
//! group their routes per path with [`Page`], whose own default answers 405.

use std::sync::LazyLock;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, web};

use crate::error::Error;

/// The API's path patterns and the methods each takes.
static API: LazyLock<Vec<(ResourceDef, Vec<Method>)>> = LazyLock::new(|| {
    super::openapi()
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ];
            let methods = methods.into_iter().filter(|(_, has)| *has).map(|(m, _)| m);
            (ResourceDef::new(path.as_str()), methods.collect())
        })
        .collect()
});

/// The default service: no route took the request. Every pattern the path matches counts
/// (`/v1/users/u/devices/sms` is both the SMS enrollment and a device), as actix itself does.
pub async fn fallback(req: HttpRequest) -> Result<HttpResponse, Error> {
    let mut allowed: Vec<Method> = API
        .iter()
        .filter(|(def, _)| def.is_match(req.path()))
        .flat_map(|(_, methods)| methods.iter().cloned())
        .collect();
    if allowed.is_empty() {
        return Err(Error::NotFound);
    }
    allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    allowed.dedup();
    Ok(crate::http::error::method_not_allowed(
        req.method(),
        &allow(&allowed),
    ))
}

/// The `Allow` value: the methods, comma-separated.
pub fn allow(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a page answers a method it does not take: the request, and the `Allow` value.
pub type Refuse = fn(&HttpRequest, &str) -> HttpResponse;

/// One page path and its handlers, one per method; any other method gets `refuse`.
pub struct Page {
    resource: Resource,
    methods: Vec<Method>,
    refuse: Refuse,
}

impl Page {
    pub fn new(path: &str, refuse: Refuse) -> Page {
        Page {
            resource: web::resource(path),
            methods: Vec::new(),
            refuse,
        }
    }

    pub fn get<F, Args>(self, handler: F) -> Page
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, web::to(handler))
    }

    pub fn post<F, Args>(self, handler: F) -> Page
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, web::to(handler))
    }

    fn route(mut self, method: Method, route: actix_web::Route) -> Page {
        self.methods.push(method.clone());
        self.resource = self.resource.route(route.method(method));
        self
    }

    /// The resource, with `refuse` as its default.
    pub fn finish(self) -> Resource {
        let allow = allow(&self.methods);
        let refuse = self.refuse;
        self.resource
            .default_service(web::to(move |req: HttpRequest| {
                let allow = allow.clone();
                async move { refuse(&req, &allow) }
            }))
    }
}
