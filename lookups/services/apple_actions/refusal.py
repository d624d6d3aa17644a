"""The one way an action at Apple is refused: a status code and a sentence for the agent."""

from __future__ import annotations


class ActionRefused(Exception):
    """Nothing was sent to Apple (or nothing more): `message` tells the agent why in plain words.

    `status` is the HTTP status a view answers with; `apple_code` is Apple's error code when
    Apple's own answer is the reason.
    """

    def __init__(self, message: str, *, status: int = 409, apple_code: int | None = None) -> None:
        self.message = message
        self.status = status
        self.apple_code = apple_code
        super().__init__(message)

    @property
    def sentence(self) -> str:
        """The message, with Apple's code when there is one."""
        if self.apple_code is None or str(self.apple_code) in self.message:
            return self.message
        return f"{self.message} (Apple error {self.apple_code})"
