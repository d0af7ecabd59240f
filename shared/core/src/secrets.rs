//! Where an installation keeps a deployment's secrets: SSM SecureString parameters under
//! `/aviary/<installation>/deployments/<deployment id>/`. The path carries both names, so IAM
//! scopes each role to its own installation's parameters by path, and teardown and cleanup find
//! a deployment's secrets without its record.
//!
//! The only secret today is the monitor's Grafana admin password: the monitor generates it at
//! boot and writes it here; the API returns it to the deployment's owner or an operator.

/// The Grafana `admin` password of the deployment's monitor.
pub const GRAFANA_PASSWORD: &str = "grafana-admin-password";

/// Every secret a deployment may have (what teardown deletes).
pub const ALL: &[&str] = &[GRAFANA_PASSWORD];

/// The path prefix of every secret of the installation.
pub fn installation_path(installation: &str) -> String {
    format!("/aviary/{installation}/deployments/")
}

/// The parameter name of one secret of a deployment.
pub fn parameter_name(installation: &str, deployment_id: &str, secret: &str) -> String {
    format!("{}{deployment_id}/{secret}", installation_path(installation))
}

/// The deployment a parameter of the installation belongs to, or `None` when `name` is not
/// under the installation's path in the expected shape.
pub fn deployment_of<'a>(installation: &str, name: &'a str) -> Option<&'a str> {
    let rest = name.strip_prefix(&installation_path(installation))?;
    let (deployment_id, secret) = rest.split_once('/')?;
    (!deployment_id.is_empty() && !secret.is_empty() && !secret.contains('/')).then_some(deployment_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_stay_inside_the_installation() {
        let name = parameter_name("aviary", "web-0123456789", GRAFANA_PASSWORD);
        assert_eq!(name, "/aviary/aviary/deployments/web-0123456789/grafana-admin-password");
        assert_eq!(deployment_of("aviary", &name), Some("web-0123456789"));
        assert_eq!(deployment_of("aviary-b", &name), None, "another installation's parameter");
        assert_eq!(deployment_of("aviary", "/aviary/aviary/deployments/web-1"), None);
        assert_eq!(deployment_of("aviary", "/aviary/aviary/deployments//x"), None);
        assert_eq!(deployment_of("aviary", "/aviary/aviary/deployments/web-1/a/b"), None);
    }
}
