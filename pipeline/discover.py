"""Finding the submissions in a folder, in either layout of the contract, mixed freely.

- flat pairs:      DIR/<id>.pdf + DIR/<id>.json
- one folder each: DIR/<id>/ with exactly one *.pdf and a form.json
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SubmissionInput:
    id: str
    pdf: Path | None
    form: Path | None
    problem: str | None = None  # why the layout itself is wrong (Chinese), if it is


def discover(root: Path) -> list[SubmissionInput]:
    """Every submission under root, sorted by id; layout problems become inputs with a problem."""
    found: dict[str, SubmissionInput] = {}
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    files = [p for p in entries if p.is_file()]
    for p in entries:
        if p.is_dir() and not p.name.startswith("."):
            found[p.name] = _from_folder(p)
    pdfs = {p.stem: p for p in files if p.suffix.lower() == ".pdf"}
    forms = {p.stem: p for p in files if p.suffix.lower() == ".json"}
    for sid in sorted(set(pdfs) | set(forms)):
        if sid in found:
            found[sid] = SubmissionInput(sid, pdfs.get(sid), forms.get(sid), f"编号{sid}同时存在文件夹和同名文件")
            continue
        problem = None
        if sid not in pdfs:
            problem = "缺少PDF文件"
        elif sid not in forms:
            problem = "缺少表单文件（同名.json）"
        found[sid] = SubmissionInput(sid, pdfs.get(sid), forms.get(sid), problem)
    return [found[k] for k in sorted(found)]


def _from_folder(folder: Path) -> SubmissionInput:
    pdfs = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf")
    form = folder / "form.json"
    form = form if form.is_file() else None
    problem = None
    if len(pdfs) != 1:
        problem = "文件夹中没有PDF文件" if not pdfs else f"文件夹中有{len(pdfs)}个PDF文件，应只有1个"
    elif form is None:
        problem = "文件夹中缺少form.json"
    return SubmissionInput(folder.name, pdfs[0] if len(pdfs) == 1 else None, form, problem)
