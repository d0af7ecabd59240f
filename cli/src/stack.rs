//! `--stack NAME` (or `$AVIARY_STACK`): the API endpoint read from the Aviary stack's `ApiUrl`
//! output with CloudFormation `DescribeStacks`, so nobody copies the URL around. The lookup
//! uses the same `--profile` and `--region` as everything else; its failures are one line
//! saying which stack, which region and what to check.

use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::Stack;

use crate::cli::ApiArgs;
use crate::error::CliError;

/// The stack output holding the API's base URL (`infra/template.yaml`'s `Outputs`).
pub const API_URL_OUTPUT: &str = "ApiUrl";

/// `api` with its endpoint filled in from its stack, when a stack and no endpoint were given.
pub async fn resolve(mut api: ApiArgs) -> Result<ApiArgs, CliError> {
    let Some(name) = api.stack.clone().filter(|_| api.endpoint.is_none()) else {
        return Ok(api);
    };
    let config = crate::commands::aws_loader(&api)?.load().await;
    let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
        CliError::Usage(format!("no AWS region to find stack '{name}' in: pass --region or set AWS_REGION (or name one in your profile)"))
    })?;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let answer = cfn.describe_stacks().stack_name(&name).send().await.map_err(|e| lookup_error(&name, &region, &e))?;
    let stack = answer.stacks().first().ok_or_else(|| missing(&name, &region))?;
    api.endpoint = Some(api_url(stack, &name, &region)?);
    Ok(api)
}

/// The stack's `ApiUrl` output, without a trailing slash.
fn api_url(stack: &Stack, name: &str, region: &str) -> Result<String, CliError> {
    let url = stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(API_URL_OUTPUT))
        .and_then(|o| o.output_value())
        .map(|v| v.trim().trim_end_matches('/'))
        .filter(|v| !v.is_empty());
    match url {
        Some(url) => Ok(url.to_string()),
        None => {
            let status = stack.stack_status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into());
            Err(CliError::Stack {
                name: name.into(),
                message: format!(
                    "it has no {API_URL_OUTPUT} output (status {status} in {region}): name the stack deployed from infra/template.yaml, wait until it is CREATE_COMPLETE, or pass --endpoint URL"
                ),
            })
        }
    }
}

fn missing(name: &str, region: &str) -> CliError {
    CliError::Stack {
        name: name.into(),
        message: format!(
            "no such stack in {region}: check the name (`aws cloudformation describe-stacks --query 'Stacks[].StackName'`), --region and --profile"
        ),
    }
}

/// One line for a failed `DescribeStacks` (never the SDK's nested Debug output).
fn lookup_error<E, R>(name: &str, region: &str, e: &SdkError<E, R>) -> CliError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = match e {
        // CloudFormation answers an unknown stack with a ValidationError, "Stack with id X does not exist".
        SdkError::ServiceError(s) if s.err().message().is_some_and(|m| m.contains("does not exist")) => return missing(name, region),
        SdkError::ServiceError(s) => match s.err().code() {
            Some(code @ ("AccessDenied" | "AccessDeniedException")) => {
                format!("{code}: your credentials may not call cloudformation:DescribeStacks on it (check --profile), or pass --endpoint URL")
            }
            Some(code) => format!("CloudFormation in {region} answered {code}: {}", s.err().message().unwrap_or("no message")),
            None => format!("CloudFormation in {region} answered an error without a code: is AWS_ENDPOINT_URL a CloudFormation endpoint?"),
        },
        SdkError::TimeoutError(_) => format!("CloudFormation in {region} did not answer in time: check the network and --region"),
        other => {
            let text = DisplayErrorContext(other).to_string();
            let first: String = text.lines().next().unwrap_or("the request failed").chars().take(300).collect();
            format!("cannot ask CloudFormation in {region}: {first} (check --profile, --region and the network, or pass --endpoint URL)")
        }
    };
    CliError::Stack { name: name.into(), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::{Output, StackStatus};

    fn stack(outputs: &[(&str, &str)], status: StackStatus) -> Stack {
        let mut b = Stack::builder().stack_name("aviary").stack_status(status);
        for (k, v) in outputs {
            b = b.outputs(Output::builder().output_key(*k).output_value(*v).build());
        }
        b.build()
    }

    #[test]
    fn the_api_url_output_is_the_endpoint() {
        let s = stack(&[("ArtifactBucketName", "b"), ("ApiUrl", "https://abc.execute-api.eu-west-1.amazonaws.com/")], StackStatus::CreateComplete);
        assert_eq!(api_url(&s, "aviary", "eu-west-1").unwrap(), "https://abc.execute-api.eu-west-1.amazonaws.com");
    }

    #[test]
    fn a_stack_without_the_output_is_named_with_its_status() {
        let s = stack(&[("Other", "x"), ("ApiUrl", " ")], StackStatus::RollbackComplete);
        let e = api_url(&s, "aviary", "eu-west-1").unwrap_err().to_string();
        assert!(e.starts_with("stack 'aviary': it has no ApiUrl output (status ROLLBACK_COMPLETE in eu-west-1)"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[tokio::test]
    async fn without_a_stack_or_with_an_endpoint_nothing_is_looked_up() {
        let api = ApiArgs { endpoint: Some("http://127.0.0.1:1".into()), stack: Some("aviary".into()), ..Default::default() };
        assert_eq!(resolve(api).await.unwrap().endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(resolve(ApiArgs::default()).await.unwrap().endpoint, None);
    }
}
