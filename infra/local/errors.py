"""The one error type infra/local raises: a problem and the fix, both for humans."""


class InfraError(Exception):
    """A setup problem the user can fix; the CLI prints it without a traceback."""

    def __init__(self, problem: str, fix: str, detail: str = "") -> None:
        self.problem = problem
        self.fix = fix
        self.detail = detail
        super().__init__(self.render())

    def render(self) -> str:
        text = f"error: {self.problem}\n  fix: {self.fix}"
        if self.detail:
            text += "\n" + "\n".join(f"  | {line}" for line in self.detail.splitlines())
        return text
