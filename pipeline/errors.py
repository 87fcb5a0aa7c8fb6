"""Exceptions that stop the processing of one submission.

Each carries its contract code and a Chinese message safe to show an applicant: messages
never contain the file's content, names or ID numbers. One function in pipeline.runner turns
them into the error report and the exit status.
"""

from __future__ import annotations


class PrecheckError(Exception):
    """Base: the submission could not be processed."""

    code = "PDF_UNREADABLE"
    message = "文件无法读取"

    def __init__(self, detail: str | None = None, *, field: str | None = None):
        self.detail = detail
        self.field = field
        super().__init__(f"{self.code}: {detail or self.message}")

    @property
    def chinese(self) -> str:
        return f"{self.message}：{self.detail}" if self.detail else self.message


class NotAPdf(PrecheckError):
    code = "NOT_A_PDF"
    message = "文件不是PDF"


class EncryptedPdf(PrecheckError):
    code = "PDF_ENCRYPTED"
    message = "PDF已加密，需要密码才能打开"


class UnreadablePdf(PrecheckError):
    code = "PDF_UNREADABLE"
    message = "PDF文件已损坏或不完整，无法读取"


class FormInvalid(PrecheckError):
    code = "FORM_INVALID"
    message = "申报表单数据无效"


class ResourceLimit(PrecheckError):
    code = "RESOURCE_LIMIT"
    message = "文件超出处理限制（时间或内存）"


class RulesInvalid(Exception):
    """The rules file is missing a key or has a bad value (a configuration error, not a finding)."""
