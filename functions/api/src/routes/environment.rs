//! `GET /environment`: the account's Application Load Balancers, listeners, rules and target
//! groups, read-only.

use aviary_shared::aws::environment::describe;
use aviary_shared::aws::Aws;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::Query;

pub async fn get(aws: &Aws, req: &ApiRequest) -> Result<Reply, ApiError> {
    Query::parse(req, &[])?;
    Ok(Reply::ok(&describe(&aws.elb).await?))
}
