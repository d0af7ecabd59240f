//! One module per command. Each returns the exit code of a successful run (0, or the judge's
//! verdict code) or a [`CliError`] whose [`CliError::exit_code`] the process exits with.

#[cfg(feature = "local")]
pub mod demo;
pub mod deploy;
pub mod destroy;
pub mod judge;
#[cfg(feature = "local")]
pub mod local;
pub mod render;
pub mod show;
pub mod traffic;
pub mod verdict;


use crate::cli::ApiArgs;
use aviary_client::Client;
use crate::error::CliError;
use aviary_client::sigv4::{region_from_host, Signer};

/// What every command may look at besides its own arguments.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// `--json` / `--output json`: machine-readable output on stdout.
    pub json: bool,
    /// `--output` as given (None: each command's default).
    pub output: Option<crate::cli::OutputFormat>,
}

impl Ctx {
    /// From `--json` and `--output`; they must not disagree.
    pub fn from_flags(json: bool, output: Option<crate::cli::OutputFormat>) -> Result<Ctx, CliError> {
        use crate::cli::OutputFormat;
        match (json, output) {
            (true, Some(o)) if o != OutputFormat::Json => {
                Err(CliError::Usage(format!("--json and --output {} disagree: give one of them", format!("{o:?}").to_lowercase())))
            }
            (true, _) => Ok(Ctx { json: true, output: Some(OutputFormat::Json) }),
            (false, o) => Ok(Ctx { json: o == Some(OutputFormat::Json), output: o }),
        }
    }
}

/// Whether requests to this endpoint are signed: `--no-sign` / `--sign` decide, else sign
/// unless the endpoint is loopback.
pub fn should_sign(api: &ApiArgs, url: &reqwest::Url) -> Result<bool, CliError> {
    if api.no_sign {
        Ok(false)
    } else if api.sign {
        Ok(true)
    } else {
        aviary_client::auto_sign(url).map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// The API client for these options, with a SigV4 signer when requests are signed.
/// The AWS config chain with `--profile` (or `$AWS_PROFILE`), refusing a profile that no
/// config file defines with a message that says so (the SDK would only say "no credentials").
pub fn aws_loader(api: &ApiArgs) -> Result<aws_config::ConfigLoader, CliError> {
    let mut loader = aviary_client::aws::defaults();
    let (profile, source) = match &api.profile {
        Some(p) => (Some(p.clone()), "--profile"),
        None => (std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()), "AWS_PROFILE"),
    };
    if let Some(p) = profile {
        let files = aws_profile_files();
        if !files.iter().any(|(_, text)| defines_profile(text, &p)) {
            let names: Vec<String> = files.iter().map(|(path, _)| path.clone()).collect();
            return Err(CliError::Usage(format!(
                "AWS profile '{p}' (from {source}) is not defined in {}; create it with `aws configure --profile {p}` or pick another",
                if names.is_empty() { "any AWS config file".to_string() } else { names.join(" or ") }
            )));
        }
        loader = loader.profile_name(p);
    }
    if let Some(r) = &api.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    Ok(loader)
}

/// The AWS config and credentials files as the SDK finds them, with their text (missing
/// files are skipped).
fn aws_profile_files() -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let config = std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| format!("{home}/.aws/config"));
    let credentials = std::env::var("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|_| format!("{home}/.aws/credentials"));
    [config, credentials].into_iter().filter_map(|path| std::fs::read_to_string(&path).ok().map(|t| (path, t))).collect()
}

/// Whether an AWS config or credentials file has a section for `name` (`[name]`,
/// `[profile name]`).
pub fn defines_profile(text: &str, name: &str) -> bool {
    text.lines().map(str::trim).filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']'))).any(|section| {
        let section = section.trim();
        section == name || section.strip_prefix("profile").is_some_and(|rest| rest.starts_with(char::is_whitespace) && rest.trim() == name)
    })
}

/// The API endpoint these options name (`--endpoint`, or `--stack`'s `ApiUrl` output), parsed.
pub async fn endpoint(api: &ApiArgs) -> Result<(String, reqwest::Url), CliError> {
    let api = crate::stack::resolve(api.clone()).await?;
    let endpoint = api.endpoint.ok_or_else(|| {
        CliError::Usage(
            "no API endpoint: pass --endpoint URL or --stack NAME, or set AVIARY_ENDPOINT (the stack's ApiUrl output, or the endpoint `aviary local up` prints)".into(),
        )
    })?;
    let url = reqwest::Url::parse(&endpoint).map_err(|e| CliError::Usage(format!("invalid --endpoint '{endpoint}': {e}")))?;
    Ok((endpoint, url))
}

/// The region and credentials requests to `url` are signed with, or None when they are not
/// signed (`--no-sign`, or a loopback endpoint without `--sign`).
pub async fn signing(api: &ApiArgs, url: &reqwest::Url) -> Result<Option<(String, aws_credential_types::provider::SharedCredentialsProvider)>, CliError> {
    if !should_sign(api, url)? {
        return Ok(None);
    }
    let config = aws_loader(api)?.load().await;
    let region = api
        .region
        .clone()
        .or_else(|| region_from_host(url))
        .or_else(|| config.region().map(|r| r.to_string()))
        .ok_or_else(|| CliError::Usage("no AWS region to sign requests for: pass --region or set AWS_REGION".into()))?;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| CliError::Usage("no AWS credentials provider configured (pass --no-sign for a local endpoint)".into()))?;
    Ok(Some((region, provider)))
}

pub async fn connect(api: &ApiArgs) -> Result<Client, CliError> {
    let (endpoint, url) = endpoint(api).await?;
    let signer = signing(api, &url).await?.map(|(region, provider)| Signer::new(provider, region));
    Ok(Client::new(&endpoint, signer)?)
}

#[cfg(test)]
mod profile_tests {
    use super::defines_profile;

    #[test]
    fn profiles_are_found_in_config_and_credentials_syntax() {
        let config = "[default]\nregion=x\n[profile team]\n[ profile  ops ]\n";
        assert!(defines_profile(config, "default"));
        assert!(defines_profile(config, "team"));
        assert!(defines_profile(config, "ops"));
        assert!(!defines_profile(config, "profile"));
        assert!(!defines_profile(config, "tea"));
        assert!(defines_profile("[dev]\naws_access_key_id=x\n", "dev"), "credentials files name the profile bare");
        assert!(!defines_profile("[profileteam]\n", "team"));
    }
}
