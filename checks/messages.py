"""Every finding's Chinese message, by code, in one place. Codes are the contract's."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "PDF_UNREADABLE": "PDF文件无法读取：{detail}",
    "PDF_ENCRYPTED": "PDF已加密，需去除密码后重新上传",
    "NOT_A_PDF": "上传的文件不是PDF：{detail}",
    "FORM_INVALID": "申报表单数据无效：{detail}",
    "RESOURCE_LIMIT": "文件超出处理限制：{detail}",
    "PAGE_LIMIT_EXCEEDED": "材料共{found}页，超过{limit}页的上限",
    "NAME_MISMATCH": "材料中的姓名与申报姓名不一致",
    "NAME_NOT_READ": "未能在证书材料中读到姓名，请人工核对",
    "ID_NUMBER_INVALID": "申报的身份证号无效：{detail}",
    "ID_NUMBER_MISMATCH": "材料中的身份证号与申报的身份证号不一致",
    "GENDER_MISMATCH": "性别与{where}不一致",
    "BIRTH_DATE_MISMATCH": "出生日期与{where}不一致",
    "AGE_LIMIT_EXCEEDED": "{category}要求{cutoff}以后出生，{where}的出生日期为{found}",
    "CERTIFICATE_NOT_FOUND": "{detail}",
    "GRADE_MISMATCH": "{where}的证书等级为{found}，与申报等级{declared}不一致",
    "GRADE_BELOW_REQUIREMENT": "{category}要求{minimum}及以上证书，{where}为{found}",
    "CERTIFICATE_NUMBER_MISMATCH": "材料中的证书编号与申报的证书编号不一致",
    "HONOR_REQUIRED_MISSING": "{category}须获得“{honor}”荣誉称号（获得{waiver}的除外）：{detail}",
    "HONOR_EXCLUDES_CATEGORY": "已获得“{honor}”称号者不能申报{category}：{detail}",
    "NARRATIVE_TOO_LONG": "候选人事迹材料约{found}字，超过{limit}字的上限",
    "NARRATIVE_NOT_FOUND": "未找到候选人事迹材料（标题“候选人事迹材料”）",
    "SUBMITTED_AFTER_DEADLINE": "提交时间{found}晚于截止时间{deadline}",
    "DUPLICATE_APPLICANT": "同一身份证号出现在多份申报中：{others}",
    "QUOTA_EXCEEDED": "推荐单位“{recommender}”推荐{category}{count}名，超过{limit}名的名额",
    "LOW_CONFIDENCE": "{field}识别置信度低（{confidence}），请人工核对",
    # copies: one message per finding; a variant of a code's message is keyed "CODE:variant"
    "ATTESTATION_MISSING": "第{page}页为复印件，未见“此件与原件相符”字样",
    "ATTESTATION_MISSING:unsure": "第{page}页为复印件，未能确认“此件与原件相符”字样（{found}），请人工核对",
    "ATTESTATION_MISSING:signature": "第{page}页有“此件与原件相符”字样，但未见经办人签字，请人工核对",
    "SEAL_MISSING": "第{page}页为复印件，未见公章",
    "SEAL_MISSING:unsure": "第{page}页为复印件，未能确认是否加盖公章，请人工核对",
    "SEAL_MISSING:not_at_attestation": "第{page}页的印章不在“此件与原件相符”处，似为原件上的印章，未见证明复印件的单位盖章，请人工核对",
    "SEAL_ORG_UNMATCHED": "第{page}页证明复印件的印章为“{found}”，与工作单位“{unit}”、推荐单位“{recommender}”均不一致，请人工核对",
}


def message(code: str, **values) -> str:
    """The message of a code, or of a variant of it ("SEAL_MISSING:unsure")."""
    return MESSAGES[code].format(**values)
