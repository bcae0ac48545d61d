"""Errors that reach the user: each message names the problem and the fix."""


class TruthstabError(Exception):
    """Base class of every error the command line prints as one line and exits non-zero on."""

    exit_code: int = 2


class DatasetError(TruthstabError):
    """A release is unknown, missing, corrupted or malformed."""


class ModelError(TruthstabError):
    """A model cannot be resolved, loaded safely, or has no usable hidden states."""


class ActivationError(TruthstabError):
    """Activations are missing, corrupted, or not finite."""


class AuditFailed(DatasetError):
    """A release was audited and failed at least one check. Exit code 1, so that a script can tell a
    failed audit (1) from a release that could not be audited at all (2)."""

    exit_code = 1


class ProbeError(TruthstabError):
    """A probe or protocol configuration is invalid."""


class ResultError(TruthstabError):
    """A result file is malformed or of an incompatible schema."""


class SubmissionError(TruthstabError):
    """A submission request is invalid or cannot be queued."""


class OptionError(TruthstabError):
    """A command-line option has a value the command cannot use."""


#: Config fields whose command-line option is not simply ``--<field with dashes>``.
_OPTION_OF_FIELD = {"n_bootstrap": "--bootstrap", "n_refits": "--refits", "model": "MODEL"}


def option_error(exc, options: dict[str, str] | None = None) -> OptionError:
    """A pydantic ValidationError of a command's config as one line naming the command-line option.

    ``options`` maps config fields to option names where they differ from ``--<field-with-dashes>``."""
    names = {**_OPTION_OF_FIELD, **(options or {})}
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        option = names.get(field) or ("--" + field.replace("_", "-") if field else "an option")
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{option}: {message}")
    return OptionError("; ".join(problems) + "; see --help for the accepted values")
