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


class ProbeError(TruthstabError):
    """A probe or protocol configuration is invalid."""


class ResultError(TruthstabError):
    """A result file is malformed or of an incompatible schema."""


class SubmissionError(TruthstabError):
    """A submission request is invalid or cannot be queued."""
