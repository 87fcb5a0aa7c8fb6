"""The HTTP API: FastAPI on uvicorn, one process; the checks run in worker processes (jobs.py).

POST /v1/prechecks               multipart: pdf (the file) + form (the declared form as JSON)
                                  -> 202 {id, url, state}; ?wait=SECONDS -> 200 with the report
                                  when it is done in time; a file and form already checked are
                                  answered from the stored result (200, "cached": true)
GET  /v1/prechecks/{id}          -> state, and the contract's JSON report when done
GET  /v1/prechecks/{id}/report.html  the reviewer's page, where the pipeline can make one
GET  /healthz, /readyz, /openapi.json

Every error is JSON {code, message} with a Chinese message safe to show the applicant.
The upload is read as a stream: its size is refused from Content-Length before a byte is
read, and counted while reading; the file type is judged by its first bytes as they arrive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from python_multipart.multipart import MultipartParser, parse_options_header
from python_multipart.exceptions import MultipartParseError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import __version__
from ..errors import FormInvalid, NotAPdf, PrecheckError
from ..forms import decode, parse_form
from ..ingest import open_pdf, sniff
from .jobs import JobManager, _warm_up_pdf
from .settings import Settings
from .store import DONE, EXPIRED, FAILED, QUEUED, Job, Store

log = logging.getLogger("pipeline.service")

_SNIFF_BYTES = 1024
_OPEN_TIMEOUT = 60.0  # seconds pypdf may take to count the pages of an upload


# --- errors --------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **extra: Any):
        super().__init__(code)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, **{k: v for k, v in self.extra.items() if v is not None}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _from_precheck(exc: PrecheckError) -> ApiError:
    status = 415 if isinstance(exc, NotAPdf) else 422
    return ApiError(status, exc.code, exc.chinese, field=exc.field)


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class JobBody(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed", "expired"]
    url: str
    submission: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    position: int | None = None
    status: Literal["pass", "review", "fail", "error"] | None = None
    report: dict | None = None
    report_html_url: str | None = None
    error: ErrorBody | None = None
    cached: bool | None = None


_ERRORS = {
    401: {"model": ErrorBody, "description": "缺少或无效的访问令牌 (UNAUTHORIZED)"},
    404: {"model": ErrorBody, "description": "没有这个任务 (NOT_FOUND)"},
    410: {"model": ErrorBody, "description": "结果已过保存期限并被删除 (JOB_EXPIRED)"},
}

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["pdf", "form"],
                    "properties": {
                        "pdf": {"type": "string", "format": "binary", "description": "申报材料PDF（不超过上传上限）"},
                        "form": {"type": "string", "description": "申报表单JSON（form.json的内容，键名同批处理）"},
                    },
                    "example": {
                        "pdf": _warm_up_pdf().decode("ascii"),
                        "form": json.dumps({"id": "example-1", "category": "全市技术能手", "name": "示例",
                                            "id_number": "11010519491231002X", "birth_date": "1949-12-31",
                                            "grade": "技师"}, ensure_ascii=False),
                    },
                },
                "encoding": {"form": {"contentType": "application/json"}},
            }
        },
    }
}


# --- the upload ----------------------------------------------------------------------------------


@dataclass
class Upload:
    tmp: Path
    sha256: str
    size: int
    form: bytes


class _Parts:
    """python-multipart callbacks: the pdf part streamed to a file, the form part kept in memory."""

    def __init__(self, tmp: Path, max_form: int):
        self.tmp = tmp
        self.max_form = max_form
        self.name: str | None = None
        self.headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self.file = None
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.sniffed = False
        self.has_pdf = False
        self.form: bytes | None = None
        self._form_buf = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": lambda d, s, e: setattr(self, "_field", self._field + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "_value", self._value + d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.name, self.headers = None, {}

    def on_header_end(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        self.name = name.decode("utf-8", "replace") if name else None
        if self.name == "pdf":
            if self.has_pdf:
                raise ApiError(400, "BAD_REQUEST", "只能上传一个PDF文件（pdf字段重复）")
            self.has_pdf = True
            self.file = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()
        elif self.name == "form":
            if self.form is not None:
                raise ApiError(400, "BAD_REQUEST", "表单字段（form）重复")
            self._form_buf = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.name == "pdf" and self.file is not None:
            self.file.write(chunk)
            self.hash.update(chunk)
            self.size += len(chunk)
            if not self.sniffed:
                self.head += chunk[: _SNIFF_BYTES - len(self.head)]
                if len(self.head) >= _SNIFF_BYTES:
                    self._sniff()
        elif self.name == "form":
            if len(self._form_buf) + len(chunk) > self.max_form:
                raise ApiError(413, "FORM_TOO_LARGE", f"表单数据超过{self.max_form // 1024}KB")
            self._form_buf.extend(chunk)

    def on_part_end(self) -> None:
        if self.name == "pdf" and self.file is not None:
            if not self.sniffed:
                self._sniff()
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None
        elif self.name == "form":
            self.form = bytes(self._form_buf)
        self.name = None

    def _sniff(self) -> None:
        """The file type from its first bytes: a renamed JPEG is refused before the rest is read."""
        self.sniffed = True
        what = sniff(self.head)
        if what is not None:
            raise _from_precheck(NotAPdf(what))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def read_upload(request: Request, settings: Settings) -> Upload:
    """The multipart body, streamed: size refused early, file type judged from its first bytes."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "请求应为multipart/form-data格式，包含pdf文件和form表单两个字段")
    limit = settings.max_upload_bytes
    too_large = ApiError(413, "UPLOAD_TOO_LARGE", f"上传文件超过{limit / (1024 * 1024):g}MB的上限",
                         limit_bytes=limit, headers={"Connection": "close"})
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large  # before a byte of the body is read
        except ValueError:
            raise ApiError(400, "BAD_REQUEST", "Content-Length无效") from None
    tmp = settings.tmp_dir / f"{uuid.uuid4().hex}.part"
    parts = _Parts(tmp, settings.max_form_bytes)
    parser = MultipartParser(boundary, parts.callbacks())
    received = 0
    stream = request.stream().__aiter__()
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(stream.__anext__(), settings.read_timeout)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise ApiError(408, "UPLOAD_TIMEOUT", "上传超时，请重新上传", headers={"Connection": "close"}) from None
            received += len(chunk)
            if received > limit:
                raise too_large  # counted while reading: the rest is never read
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        tmp.unlink(missing_ok=True)
        raise ApiError(400, "BAD_REQUEST", "上传数据格式错误（multipart格式无效）") from None
    except BaseException:
        parts.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        parts.close()
    if not parts.has_pdf:
        tmp.unlink(missing_ok=True)
        raise ApiError(422, "PDF_MISSING", "缺少PDF文件（pdf字段）", field="pdf")
    if parts.form is None:
        tmp.unlink(missing_ok=True)
        raise ApiError(422, FormInvalid.code, "申报表单数据无效：缺少表单数据（form字段）", field="form")
    return Upload(tmp, parts.hash.hexdigest(), parts.size, parts.form)


# --- the service's state -------------------------------------------------------------------------


class Service:
    """The store, the workers, the rules and the callers waiting for a job."""

    def __init__(self, settings: Settings):
        from checks.rules import load_rules

        self.settings = settings
        self.rules = load_rules(settings.rules_path)
        self.store: Store | None = None
        self.manager: JobManager | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[str, asyncio.Event] = {}
        digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in settings.tokens]
        self._token_digests = tuple(digests)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        for d in (s.data_dir, s.uploads_dir, s.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)  # applicants' files: readable by the service's user only
        self.loop = loop
        self.store = Store(s.database)
        self.manager = JobManager(s, self.store, on_finished=self._finished_threadsafe)
        self.manager.start()
        self.sweep()

    def stop(self) -> None:
        if self.manager is not None:
            self.manager.stop()
        if self.store is not None:
            self.store.close()

    # tokens

    def token_ok(self, token: str | None) -> bool:
        """Compared in constant time with every configured token."""
        if self.settings.allow_no_auth and not self._token_digests:
            return True
        given = hashlib.sha256((token or "").encode("utf-8", "replace")).digest()
        ok = False
        for digest in self._token_digests:
            ok |= hmac.compare_digest(given, digest)
        return ok and token is not None

    # waiting for jobs

    def _finished_threadsafe(self, job_id: str) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._finished, job_id)

    def _finished(self, job_id: str) -> None:
        event = self._events.pop(job_id, None)
        if event is not None:
            event.set()

    async def wait(self, job: Job, seconds: float) -> Job:
        assert self.store is not None
        if job.finished or seconds <= 0:
            return job
        event = self._events.setdefault(job.id, asyncio.Event())
        current = self.store.get(job.id)  # finished between the caller's read and now?
        if current is not None and (current.finished or current.state == EXPIRED):
            return current
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        return self.store.get(job.id) or job

    # retention

    def sweep(self) -> int:
        assert self.store is not None
        n = self.store.expire(time.time() - self.settings.retention)
        if n:
            log.info("retention: %d finished jobs' reports deleted", n)
        return n

    async def sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await asyncio.to_thread(self.sweep)
            except Exception as exc:  # noqa: BLE001 - try again at the next sweep
                log.error("retention sweep failed: %s", type(exc).__name__)


def _iso(t: float | None) -> str | None:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds") if t else None


def job_body(job: Job, cached: bool | None = None) -> dict:
    url = f"/v1/prechecks/{job.id}"
    body: dict[str, Any] = {
        "id": job.id,
        "state": job.state,
        "url": url,
        "submission": job.submission,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }
    if job.state == QUEUED:
        body["position"] = job.position
    if job.state == DONE:
        body["status"] = job.status
        body["report"] = job.report_json()
        body["report_html_url"] = f"{url}/report.html" if job.html else None
    if job.state == FAILED:
        body["error"] = {"code": job.error_code, "message": job.error_message}
    if cached is not None:
        body["cached"] = cached
    return body


def _job_key(service: Service, pdf_sha: str, form: bytes) -> str:
    """The same file and form, checked by the same version, rules and OCR settings."""
    canonical = json.dumps(json.loads(decode(form)), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    s = service.settings
    head = f"{__version__}|{service.rules.id}|{s.ocr}|{s.dpi}|{pdf_sha}|"
    return hashlib.sha256(head.encode("utf-8") + canonical.encode("utf-8")).hexdigest()


# --- the app -------------------------------------------------------------------------------------


class _SecurityHeaders:
    """No caching of applicants' data; nothing loaded from anywhere by a page of this service."""

    HEADERS = [
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy",
         b"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.HEADERS if k not in names]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings) -> FastAPI:
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(service.start, asyncio.get_running_loop())
        sweeper = asyncio.create_task(service.sweep_forever())
        log.info("precheck service: %d workers, data in %s", settings.workers, settings.data_dir)
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.to_thread(service.stop)

    app = FastAPI(
        title="evidence-precheck",
        version=__version__,
        description="申报佐证材料预审服务：上传PDF和申报表单，返回预审报告（JSON）。",
        docs_url=None,  # the Swagger and ReDoc pages load scripts from a CDN: not served
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(_SecurityHeaders)
    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <token>")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code, message = {
            404: ("NOT_FOUND", "未找到请求的地址"),
            405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
        }.get(exc.status_code, (f"HTTP_{exc.status_code}", "请求无法处理"))
        return JSONResponse({"code": code, "message": message}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"code": "BAD_REQUEST", "message": "请求参数无效", "errors": errors}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):
        return JSONResponse({"code": "CLIENT_DISCONNECTED", "message": "上传中断"}, status_code=400)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.error("%s %s: unexpected %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"code": "INTERNAL_ERROR", "message": "服务内部错误，请稍后重试"}, status_code=500)

    async def authorised(credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
        token = credentials.credentials if credentials is not None else None
        if not service.token_ok(token):
            raise ApiError(401, "UNAUTHORIZED", "未授权：缺少或无效的访问令牌",
                           headers={"WWW-Authenticate": 'Bearer realm="precheck"'})

    def queue_full() -> ApiError:
        assert service.manager is not None
        retry = service.manager.retry_after()
        return ApiError(429, "QUEUE_FULL", "服务繁忙，请稍后重试", headers={"Retry-After": str(retry)},
                        retry_after=retry)

    @app.post(
        "/v1/prechecks",
        status_code=202,
        summary="提交一份申报材料预审",
        dependencies=[Depends(authorised)],
        response_model=None,
        openapi_extra=_UPLOAD_BODY,
        responses={
            200: {"model": JobBody, "description": "已完成（在wait时间内完成，或相同文件和表单的已存结果）"},
            202: {"model": JobBody, "description": "已受理，排队或处理中"},
            400: {"model": ErrorBody}, 401: _ERRORS[401],
            408: {"model": ErrorBody, "description": "上传超时 (UPLOAD_TIMEOUT)"},
            413: {"model": ErrorBody, "description": "上传文件过大 (UPLOAD_TOO_LARGE, FORM_TOO_LARGE)"},
            415: {"model": ErrorBody, "description": "文件不是PDF (NOT_A_PDF) 或请求不是multipart (UNSUPPORTED_MEDIA_TYPE)"},
            422: {"model": ErrorBody, "description": "FORM_INVALID, PDF_ENCRYPTED, PDF_UNREADABLE, PAGE_LIMIT_EXCEEDED, PDF_MISSING"},
            429: {"model": ErrorBody, "description": "队列已满 (QUEUE_FULL)，见Retry-After"},
        },
    )
    async def create_precheck(
        request: Request,
        wait: float = Query(0, ge=0, le=settings.max_wait,
                            description="最多等待的秒数：在此时间内完成则返回200和报告，否则202"),
    ):
        assert service.store is not None and service.manager is not None
        if service.store.queued() >= settings.queue_size:
            raise queue_full()  # before the upload is read
        upload = await read_upload(request, settings)
        try:
            return await _accept(upload, wait)
        finally:
            upload.tmp.unlink(missing_ok=True)

    async def _accept(upload: Upload, wait: float):
        store, manager = service.store, service.manager
        assert store is not None and manager is not None
        job_id = uuid.uuid4().hex
        try:
            form = parse_form(upload.form, tuple(service.rules.categories), job_id)
        except FormInvalid as exc:
            raise _from_precheck(exc) from None
        try:
            data = await asyncio.to_thread(upload.tmp.read_bytes)
            doc = await asyncio.wait_for(asyncio.to_thread(open_pdf, data, settings.max_upload_bytes), _OPEN_TIMEOUT)
        except PrecheckError as exc:
            raise _from_precheck(exc) from None
        except TimeoutError:
            raise ApiError(422, "PDF_UNREADABLE", "PDF文件结构过于复杂，无法在限定时间内读取") from None
        del data
        if doc.pages > service.rules.max_pages:
            from checks.document import check_pages

            findings = check_pages(doc.pages, service.rules)
            message = findings[0].message if findings else f"超过{service.rules.max_pages}页"
            raise ApiError(422, "PAGE_LIMIT_EXCEEDED", message, pages=doc.pages, limit=service.rules.max_pages)
        key = _job_key(service, upload.sha256, upload.form)
        pdf_file = f"{job_id}.pdf"
        os.replace(upload.tmp, settings.uploads_dir / pdf_file)
        job, created = store.create_or_get(job_id=job_id, key=key, submission=form.id, pdf_file=pdf_file,
                                           form=upload.form, pages=doc.pages, queue_limit=settings.queue_size)
        if not created:
            (settings.uploads_dir / pdf_file).unlink(missing_ok=True)
        if job is None:
            raise queue_full()
        if created:
            log.info("job %s accepted: %d pages, %d bytes", job.id, doc.pages, upload.size)
            manager.wake()
        elif job.state == DONE:
            log.info("job %s answered again from the stored result", job.id)
            return JSONResponse(job_body(job, cached=True), status_code=200)
        job = await service.wait(job, wait)
        status = 200 if job.finished else 202
        return JSONResponse(job_body(job, cached=False), status_code=status,
                            headers={"Location": f"/v1/prechecks/{job.id}"})

    def _lookup(job_id: str) -> Job:
        assert service.store is not None
        job = service.store.get(job_id) if len(job_id) == 32 and job_id.isalnum() else None
        if job is None:
            raise ApiError(404, "NOT_FOUND", "没有这个预审任务")
        if job.state == EXPIRED:
            raise ApiError(410, "JOB_EXPIRED", "预审结果已超过保存期限，已被删除")
        return job

    @app.get("/v1/prechecks/{job_id}", summary="预审任务的状态和报告", dependencies=[Depends(authorised)],
             response_model=None, responses={200: {"model": JobBody}, **_ERRORS})
    async def get_precheck(job_id: str):
        return JSONResponse(job_body(_lookup(job_id)))

    @app.get("/v1/prechecks/{job_id}/report.html", summary="审核人员查看的HTML报告", dependencies=[Depends(authorised)],
             response_class=HTMLResponse,
             responses={**_ERRORS, 409: {"model": ErrorBody, "description": "预审尚未完成 (JOB_NOT_DONE)"}})
    async def get_report_html(job_id: str):
        job = _lookup(job_id)
        if not job.finished:
            raise ApiError(409, "JOB_NOT_DONE", "预审尚未完成")
        if not job.html:
            raise ApiError(404, "REPORT_HTML_UNAVAILABLE", "此服务暂不提供HTML报告，请使用JSON报告")
        return HTMLResponse(job.html)

    @app.get("/healthz", summary="进程存活")
    async def healthz():
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", summary="OCR引擎已加载，可以处理", responses={503: {"model": ErrorBody}})
    async def readyz():
        manager, store = service.manager, service.store
        if manager is None or store is None:
            raise ApiError(503, "NOT_READY", "服务正在启动")
        counts = await asyncio.to_thread(store.counts)
        body = {"ready": manager.ready_workers > 0, "workers": len(manager.slots),
                "workers_ready": manager.ready_workers, "queued": counts.get("queued", 0),
                "running": counts.get("running", 0), "queue_size": settings.queue_size}
        if not body["ready"]:
            return JSONResponse({"code": "NOT_READY", "message": "服务正在启动（OCR引擎加载中）", **body},
                                status_code=503)
        return body

    return app


def serve(settings: Settings) -> None:
    """Run the service until stopped (SIGINT/SIGTERM)."""
    import uvicorn

    settings.check()
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=settings.access_log, server_header=False, timeout_keep_alive=5,
                timeout_graceful_shutdown=10)
