//! Finding a remote domain's server (RFC 6120 §3.2): a static route from the
//! configuration if there is one, else DNS SRV `_xmpp-server._tcp.<domain>`, else the
//! domain's own A/AAAA records on port 5269.

use std::collections::HashMap;
use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;
use tokio::sync::OnceCell;

/// The port of server streams when SRV says nothing (RFC 6120 §3.2.2).
pub(crate) const DEFAULT_PORT: u16 = 5269;
/// Most addresses tried for one domain.
const MAX_TARGETS: usize = 16;

/// Why a domain could not be resolved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    /// Nothing found: no static route, no SRV, no address.
    #[error("no address for {0}")]
    NotFound(String),
    /// The domain says it offers no XMPP service (SRV target `.`, RFC 6120 §3.2.1).
    #[error("{0} offers no server-to-server service")]
    NoService(String),
}

/// Resolves remote domains; the DNS resolver is built on first use.
pub(crate) struct Resolver {
    routes: HashMap<String, Vec<String>>,
    dns: OnceCell<Option<TokioResolver>>,
}

impl Resolver {
    /// A resolver with these static routes (domain to `host:port` list).
    pub(crate) fn new(routes: &HashMap<String, Vec<String>>) -> Self {
        let routes = routes
            .iter()
            .map(|(d, a)| (d.to_ascii_lowercase(), a.clone()))
            .collect();
        Self {
            routes,
            dns: OnceCell::new(),
        }
    }

    /// The addresses to try for `domain`, in order.
    pub(crate) async fn resolve(&self, domain: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let domain = domain.to_ascii_lowercase();
        if let Some(targets) = self.routes.get(&domain) {
            let mut out = Vec::new();
            for t in targets {
                out.extend(lookup_host(t).await);
            }
            return non_empty(out, &domain);
        }
        let srv = self.srv(&domain).await?;
        let mut out = Vec::new();
        match srv {
            Some(targets) => {
                for (host, port) in targets {
                    out.extend(lookup_host(&format!("{host}:{port}")).await);
                    if out.len() >= MAX_TARGETS {
                        break;
                    }
                }
            }
            None => out.extend(lookup_host(&format!("{domain}:{DEFAULT_PORT}")).await),
        }
        out.truncate(MAX_TARGETS);
        non_empty(out, &domain)
    }

    /// SRV targets sorted by priority (RFC 2782; weights are not balanced), or `None`
    /// when the domain has no SRV records (or DNS is unavailable).
    async fn srv(&self, domain: &str) -> Result<Option<Vec<(String, u16)>>, ResolveError> {
        let dns = self
            .dns
            .get_or_init(|| async {
                match TokioResolver::builder_tokio().and_then(|b| b.build()) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::warn!(error = %e, "no DNS resolver; only static routes and the system resolver");
                        None
                    }
                }
            })
            .await;
        let Some(dns) = dns else { return Ok(None) };
        let name = format!("_xmpp-server._tcp.{domain}.");
        let Ok(lookup) = dns.srv_lookup(name).await else {
            return Ok(None);
        };
        let mut records: Vec<(u16, String, u16)> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some((
                    srv.priority,
                    srv.target.to_ascii().trim_end_matches('.').to_owned(),
                    srv.port,
                )),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return Ok(None);
        }
        if records.len() == 1 && records[0].1.is_empty() {
            return Err(ResolveError::NoService(domain.to_owned()));
        }
        records.sort_by_key(|r| r.0);
        Ok(Some(
            records
                .into_iter()
                .filter(|r| !r.1.is_empty())
                .map(|(_, host, port)| (host, port))
                .collect(),
        ))
    }
}

/// `host:port` through the system resolver; nothing on failure.
async fn lookup_host(target: &str) -> Vec<SocketAddr> {
    match tokio::net::lookup_host(target).await {
        Ok(addrs) => addrs.take(MAX_TARGETS).collect(),
        Err(e) => {
            tracing::debug!(%target, error = %e, "address lookup failed");
            Vec::new()
        }
    }
}

fn non_empty(out: Vec<SocketAddr>, domain: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    if out.is_empty() {
        Err(ResolveError::NotFound(domain.to_owned()))
    } else {
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_routes_come_first_and_ignore_case() {
        let routes = HashMap::from([(
            "Remote.Example".to_owned(),
            vec!["127.0.0.1:25269".to_owned(), "[::1]:25270".to_owned()],
        )]);
        let r = Resolver::new(&routes);
        let addrs = r.resolve("remote.example").await.unwrap();
        assert_eq!(addrs[0], "127.0.0.1:25269".parse().unwrap());
        assert_eq!(addrs[1], "[::1]:25270".parse().unwrap());
    }

    #[tokio::test]
    async fn a_route_to_nowhere_is_not_found() {
        let routes = HashMap::from([("x.example".to_owned(), vec!["not an address".to_owned()])]);
        let r = Resolver::new(&routes);
        assert!(matches!(
            r.resolve("x.example").await,
            Err(ResolveError::NotFound(_))
        ));
    }
}
