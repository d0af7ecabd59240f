"""moto_server for tests/tests/iam_policies.rs: IAM enforcement that identifies the caller by its
access key and evaluates that user's policies, without recomputing the SigV4 signature.

Why: moto recomputes signatures from the parsed form (re-encoded with '+' for spaces), while the
Rust SDK signs the body it sent (%20), so every query-protocol call whose body has a space (EC2
CreateSecurityGroup's description, for one) would fail as a signature mismatch that AWS would
accept. The IAM test is about authorization; unknown access keys are still refused, and Aviary's
own SigV4 signer is checked against AWS's published test vectors (aviary-client).
"""

from moto.iam.access_control import IAMRequestBase

IAMRequestBase.check_signature = lambda self: None  # type: ignore[method-assign]

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main()
