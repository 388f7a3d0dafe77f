"""`dsar verify ARTIFACT --sign-off NAME --role reviewer|approver`: the options and the step
that records a sign-off once the checks pass (`dsar.review.signoff.sign_off`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from dsar.cli.common import err, open_register, passphrase_from

if TYPE_CHECKING:
    from dsar.review.bundle import Verification

SignOffOpt = Annotated[
    str | None,
    typer.Option(
        "--sign-off",
        metavar="NAME",
        help="Record your sign-off in the register's audit log when nothing blocks: who, when,"
        " the artifact's kind and SHA-256, the findings (needs --role and the key).",
    ),
]
RoleOpt = Annotated[
    str | None,
    typer.Option(
        help="With --sign-off: reviewer, or approver (someone other than the reviewer of the"
        " same bytes)."
    ),
]
RequestOpt = Annotated[
    str | None,
    typer.Option(
        "--request",
        help="With --sign-off: the request the artifact answers; moved to reviewed or approved.",
    ),
]
DecisionsOpt = Annotated[
    Path | None,
    typer.Option(
        help="With --sign-off, for a bundle: a YAML file with a decision per third-party item"
        " (disclose, redact or withhold; consent, duty of confidence, reasonableness, reason)."
    ),
]
SharedAccountOpt = Annotated[
    bool,
    typer.Option(
        "--shared-account",
        help="With --sign-off --role approver: two people share this operating-system account"
        " (without it, an approval from the account that made the review is refused).",
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def damaged_artifact_is_a_finding(command: F) -> F:
    """`dsar verify` on a file its checks did not expect (cut, garbled, another format):
    one line and exit 1, never a traceback, whose message could quote the file's values; the
    artifact is not verified and nothing is signed off."""

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        from dsar.errors import WorkbenchError

        try:
            return command(*args, **kwargs)
        except (WorkbenchError, typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
            raise
        except Exception as exc:  # never its message: a reader's quotes the line it read
            artifact = kwargs.get("artifact", "the artifact")
            err(
                f"{artifact}: cannot be checked: a file in it is damaged or not in the format"
                f" its kind uses ({type(exc).__name__}); it is NOT verified: make it again"
            )
            refused(kwargs.get("sign_off"))
            raise typer.Exit(1) from None

    return guarded  # type: ignore[return-value]


def refused(sign_off: str | None) -> None:
    """The line `dsar verify` adds when findings stop a sign-off."""
    if sign_off is not None:
        err("no sign-off recorded: an artifact with findings cannot be signed off")


def _personal(value: str) -> bool:
    """Whether a value typed on the command line holds an email address or a phone number:
    never echoed in an error, never recorded."""
    from dsar.text.detectors import emails, phones

    return any(emails(value)) or any(phones(value))


def record_sign_off(
    artifact: Path,
    result: Verification,
    *,
    name: str | None,
    role: str | None,
    register: Path,
    key_file: Path | None,
    request: str | None,
    decisions: Path | None,
    passphrase_env: str | None,
    catalog: Path | None = None,
    export: Path | None = None,
    shared_account: bool = False,
) -> None:
    """Record the sign-off `dsar verify` was asked for, after its checks passed."""
    from dsar.catalog import load_catalog
    from dsar.review.signoff import SignOffRole, load_decisions, sign_off

    if name is None and role is None and request is None and decisions is None:
        return
    if name is None:
        raise typer.BadParameter("--role, --request and --decisions go with --sign-off NAME")
    if role not in {r.value for r in SignOffRole}:
        raise typer.BadParameter("--sign-off needs --role reviewer or --role approver")
    if request is not None and _personal(request):
        raise typer.BadParameter(
            "--request holds an email address or a phone number (not shown): give the"
            " request's id as `dsar requests list` shows it (R-2026-0001)"
        )
    chosen = load_decisions(decisions) if decisions is not None else None
    loaded = load_catalog(catalog) if catalog is not None else None
    reg = open_register(register, key_file)
    try:
        done = sign_off(
            artifact,
            name,
            role,
            register=reg,
            request=request,
            decisions=chosen,
            verification=result,
            passphrase=passphrase_from(passphrase_env),
            catalog=loaded,
            export=export,
            shared_account=shared_account,
        )
    finally:
        reg.close()
    typer.echo(str(done))
    typer.echo(f"  sha256 {done.sha256}")
    for item in done.third_party:
        places = ", ".join(item.places)
        typer.echo(f"  third party {item.id} ({places}): {item.decision or 'NO DECISION YET'}")
    if done.undecided:
        err(
            f"{len(done.undecided)} third-party item(s) need a decision before approval:"
            " --decisions FILE (see the README, Review and sign-off)"
        )
