"""The book runner: ``python -m tradebook book`` (``make book``).

1. Validates every requested département code (before any kernel starts) and
   prepares the data if needed.
2. Executes the template notebook once per département with papermill, in
   parallel worker processes. Each worker keeps one warm Jupyter kernel and
   reuses it from page to page (custom papermill engine; the namespace is reset
   between pages), so imports and the region's and France's fiches are paid for
   once per worker. Kernel starts are retried; each page has a time limit.
3. Skips pages whose inputs did not change: a page's key hashes the template,
   the ``tradebook`` code and nomenclatures, the prepared data and the page's
   parameters (content hashes, never timestamps).
4. Writes ``_toc.yml`` and the index page of départements, builds the site with
   Jupyter Book 1 (``-W -n --keep-going``) in a persistent work folder (so that
   Sphinx rebuilds only what changed), then publishes it to ``_build/html`` by
   copying it aside and swapping folders: a failed page or a failed build never
   replaces a good site.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from tradebook import nomenclatures, paths, render
from tradebook.errors import TradebookError
from tradebook.files import write_text_atomic
from tradebook.nomenclatures import Zone

SITE_MARKER = ".tradebook-site.json"
CHAPTERS = ("introduction", "methodologie", "guide-analyste")
KERNEL_NAME = "python3"
ENGINE_NAME = "tradebook-warm"
KERNEL_START_ATTEMPTS = 3
KERNEL_START_TIMEOUT = 60
# Kernels of the runner: no history database; only errors in their log, unless
# --verbeux (which drops QUIET_KERNEL).
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]
LOCK_NAME = "construction.lock"
WORKER_LOG = "journal-pages.txt"  # the workers' and kernels' stderr, without --verbeux
SITE_LOG = "journal-site.txt"  # Jupyter Book's output, without --verbeux
STOP_GRACE = 3.0  # seconds a child gets to end after SIGTERM, before SIGKILL
# PAGE_FORMAT versions what this runner does to a page (title cell, dropped
# sections): bump it when that changes.
PAGE_FORMAT = 4
HASHED_PACKAGES = ("altair", "vl-convert-python", "papermill", "nbclient", "pandas", "pyarrow")


@dataclass(frozen=True)
class Layout:
    """Where a book's sources, executed pages, caches and published site live.

    The default is the repository's: ``_config.yml`` and ``_toc.yml`` at the top
    level, the Sphinx sources in ``book/`` (toc paths are relative to it), caches in
    ``.cache/book/``, the site in ``_build/html``; tests build elsewhere with
    :meth:`copy_sources`.
    """

    source: Path = paths.BOOK
    cache: Path = paths.ROOT / ".cache" / "book"
    published: Path = paths.ROOT / "_build" / "html"
    top: Path = paths.ROOT

    @property
    def pages(self) -> Path:
        """The département pages' folder (with the generated index page and the runner's
        state); region pages sit in ``regions/``, France's page at the top."""
        return self.source / "departements"

    def page_file(self, zone: Zone) -> Path:
        """The executed notebook of a zone's page."""
        return self.source / f"{paths.site_page(zone.type, zone.code)}.ipynb"

    def page_files(self) -> list[Path]:
        """Every executed page notebook present in the sources."""
        kinds = [self.source / f"{paths.site_page('france', '')}.ipynb"]
        folders = [self.source / f for f in paths.PAGE_FOLDERS.values() if f]
        return [p for p in kinds if p.is_file()] + sorted(
            p for folder in folders for p in folder.glob("*.ipynb"))

    @property
    def config(self) -> Path:
        """Jupyter Book's configuration (top level, committed)."""
        return self.top / "_config.yml"

    @property
    def toc(self) -> Path:
        """The table of contents of the whole book (top level, generated, committed)."""
        return self.top / "_toc.yml"

    @property
    def selection_toc(self) -> Path:
        """The table of contents of a book limited to some départements (not committed)."""
        return self.pages / "_toc.yml"

    @property
    def index(self) -> Path:
        return self.pages / "index.md"

    @property
    def state(self) -> Path:
        """Keys of the executed pages."""
        return self.pages / ".etat.json"

    @property
    def static(self) -> Path:
        return self.source / "_static"

    @property
    def failed(self) -> Path:
        """Notebooks of failed pages, kept for inspection."""
        return self.cache / "echecs"

    @property
    def pdf(self) -> Path:
        """The printable fiches written by the kernels (``61.pdf``, ``region-28.pdf``),
        published under ``pdf/`` with the site."""
        return self.cache / "pdf"

    @property
    def work(self) -> Path:
        """Jupyter Book's persistent output folder (Sphinx rebuilds only what changed)."""
        return self.cache / "site"

    def copy_sources(self, root: Path) -> "Layout":
        """A layout under ``root`` with a copy of this book's chapters, configuration and
        style sheet (not its pages, bundle or shared charts)."""
        target = Layout(root / "book", root / "cache", root / "_build" / "html", root)
        target.static.mkdir(parents=True, exist_ok=True)
        for name in (f"{c}.md" for c in CHAPTERS):
            shutil.copy2(self.source / name, target.source / name)
        shutil.copy2(self.config, target.config)
        for path in [*self.static.glob("*.css"), *self.static.glob("tradebook-*.js")]:
            shutil.copy2(path, target.static / path.name)
        return target


DEFAULT_LAYOUT = Layout()


class BookError(TradebookError):
    """The book could not be built (failed pages or a failed site build)."""

    exit_code = 1


# --------------------------------------------------------------------------- selection


def select_departements(codes: Sequence[str] | None) -> list[Zone]:
    """The zones of the départements to build, in natural code order, duplicates removed.

    Every code (or name) is resolved once, up front: one wrong code raises
    :class:`~tradebook.errors.UnknownCodeError` (French message) before any
    data is read or any kernel starts.
    """
    if not codes:
        chosen = {d.code_dgddi for d in nomenclatures.page_departements()}
    else:
        chosen = {nomenclatures.resolve_departement(code).code_dgddi for code in codes}
    return [nomenclatures.departement_zone(d) for d in nomenclatures.page_departements()
            if d.code_dgddi in chosen]


def book_zones(departements: Sequence[Zone]) -> list[Zone]:
    """Every page of a book of these départements: France, the regions with a page
    (metropolitan) that hold one of them, then the départements."""
    regions = {d.region_code for d in departements}
    return [nomenclatures.france_zone(),
            *[nomenclatures.region_zone(r) for r in nomenclatures.page_regions()
              if r.code in regions],
            *departements]


def default_workers() -> int:
    """Pages executed at once: one more than the cores, since a kernel waits on its
    worker between cells and a third kernel fills those gaps (whole book on 2 cores:
    78 to 85 s with 2, 72 to 74 s with 3, 77 s with 4)."""
    return (os.cpu_count() or 1) + 1


def check_options(processus: int | None, delai: float) -> tuple[int, float]:
    """Number of worker processes and page time limit, validated."""
    workers = processus if processus is not None else default_workers()
    if workers < 1:
        raise TradebookError(f"--processus doit valoir au moins 1 (reçu : {workers}).")
    if not (delai > 0 and math.isfinite(delai)):
        raise TradebookError(f"--delai doit être un nombre de secondes positif (reçu : {delai}).")
    return workers, float(delai)


# --------------------------------------------------------------------------- hashing


def sha256_files(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over the relative names and contents of ``files``."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def code_hash() -> str:
    """Hash of the whole ``tradebook`` package, every file of ``data/`` that pages read
    (``paths.page_data_files``: texts, caveats, nomenclatures, map geometry; not the
    raw sources, keyed through the prepared data) and key library versions. Whole
    folders are hashed, not lists of files: a hand-kept list silently skips
    re-executions when it is wrong (an edited caveat left a page stale)."""
    package = paths.ROOT / "tradebook"
    files = [*(p for p in package.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"),
             *paths.page_data_files()]
    versions = []
    for name in HASHED_PACKAGES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=absent")
    return hashlib.sha256((sha256_files(files, paths.ROOT) + ";".join(versions)).encode()).hexdigest()


def data_hash(prepared_dir: Path) -> str:
    """Hash of the prepared data folder's files."""
    files = [p for p in Path(prepared_dir).iterdir() if p.is_file() and not p.name.startswith(".")]
    return sha256_files(files, Path(prepared_dir))


def page_key(template: str, code: str, data: str, parameters: dict) -> str:
    """Key of one page: changes when any input of its execution changes."""
    payload = json.dumps({"template": template, "code": code, "data": data,
                          "parameters": parameters, "renderer": render.BOOK_MODE,
                          "format": PAGE_FORMAT},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class PageJob:
    """One page to execute."""

    zone: Zone
    parameters: dict
    key: str
    output: Path
    pdf: Path  # the page's printable fiche, typeset by its kernel

    @property
    def code(self) -> str:
        """The page's path in the book (``departements/61``, ``regions/28``, ``france``):
        unique across kinds (``28`` is both a département and a region)."""
        return paths.site_page(self.zone.type, self.zone.code)

    @property
    def region(self) -> str:
        """The page's region (pages of one region run on the same worker)."""
        return self.zone.region_code


@dataclass
class PageResult:
    """What a worker reports about one page."""

    code: str
    ok: bool
    seconds: float = 0.0
    error: str = ""
    notebook: str = ""  # where the failed notebook was kept
    pdf_seconds: float = 0.0  # of ``seconds``, writing the printable fiche


def book_page_list(zones: Sequence[Zone]) -> list[str]:
    """Every page of a book of ``zones``: theirs and the national views."""
    from tradebook import figures

    return [*(paths.site_page(z.type, z.code) for z in zones),
            *(paths.site_page(v) for v in figures.VIEWS)]


def zone_parameters(zone: Zone) -> dict:
    """The template's parameters naming ``zone`` (the others set empty: one zone only)."""
    return {"departement": zone.code if zone.type == "departement" else "",
            "region": zone.code if zone.type == "region" else "",
            "france": zone.type == "france"}


def plan_pages(zones: Sequence[Zone], prepared_dir: Path, annee: int,
               layout: Layout = DEFAULT_LAYOUT) -> list[PageJob]:
    """One job per zone, with its key."""
    from tradebook.template import template_text

    template = hashlib.sha256(template_text().encode()).hexdigest()
    code, data = code_hash(), data_hash(prepared_dir)
    from tradebook.pdf import pdf_stem

    jobs = []
    pages = book_page_list(zones)
    for zone in zones:
        parameters = {**zone_parameters(zone), "annee": int(annee), "donnees": str(prepared_dir)}
        hashed = {k: v for k, v in parameters.items() if k != "donnees"}
        if zone.type != "departement":  # its table links the book's départements
            hashed["pages"] = pages
        jobs.append(PageJob(zone, parameters, page_key(template, code, data, hashed),
                            layout.page_file(zone), layout.pdf / f"{pdf_stem(zone)}.pdf"))
    return jobs


def read_state(path: Path) -> dict[str, str]:
    """Keys of the pages executed by earlier runs."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(state: dict[str, str], path: Path) -> None:
    """Save the pages' keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(dict(sorted(state.items())), indent=1))


def pages_to_run(jobs: Sequence[PageJob], state: dict[str, str]) -> list[PageJob]:
    """Jobs whose page or PDF is missing or whose key changed."""
    return [j for j in jobs
            if state.get(j.code) != j.key or not j.output.is_file() or not j.pdf.is_file()]


# --------------------------------------------------------------------------- notebook text


def finish_notebook(nb, key: str) -> None:
    """Hide the injected parameters cell in the book (it stays in the notebook) and
    record the page key."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb.metadata["tradebook"] = {"cle": key}


# --------------------------------------------------------------------------- worker side


class WarmKernel:
    """One Jupyter kernel kept alive in a worker process and reused page after page.

    The kernel talks over Unix sockets (ZeroMQ ``ipc``) in a private folder, not over
    TCP ports: on a busy machine another program could take a port between its choice
    and the kernel's bind, and the kernel then died at start while its client waited
    for ever. The folder holds the connection files and sockets; :meth:`remove_files`
    deletes it.
    """

    def __init__(self, arguments: Sequence[str] = (*KERNEL_ARGUMENTS, *QUIET_KERNEL)) -> None:
        self.km = None
        self.kc = None  # the client of the running kernel, connected once, kept for its pages
        self.starting = None  # the manager of a kernel being started
        self.arguments = list(arguments)
        self.deadline = float("inf")
        self.folder = Path(tempfile.mkdtemp(prefix="tradebook-noyaux-"))
        self.started = 0

    def manager(self):
        """A kernel manager whose files are in :attr:`folder`."""
        from jupyter_client.manager import AsyncKernelManager

        self.started += 1
        stem = self.folder / f"noyau-{self.started}"
        return AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                                  connection_file=f"{stem}.json", ip=f"{stem}-ipc")

    def remove_files(self) -> None:
        """Delete the folder of connection files and sockets."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def alive(self) -> bool:
        """True when the kernel process is running."""
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def start(self) -> None:
        """Start the kernel, retrying when a start fails (starts race under load)."""
        from jupyter_core.utils import run_sync

        last: Exception | None = None
        for attempt in range(KERNEL_START_ATTEMPTS):
            km = self.starting = self.manager()
            try:
                run_sync(km.start_kernel)(cwd=str(paths.ROOT), extra_arguments=self.arguments)
                kc = km.client()
                kc.start_channels()
                try:
                    run_sync(kc.wait_for_ready)(timeout=KERNEL_START_TIMEOUT)
                except BaseException:
                    kc.stop_channels()
                    raise
                self.km, self.kc, self.starting = km, kc, None
                return
            except Exception as exc:  # noqa: BLE001 - any start failure is retried
                last = exc
                self._shutdown(km)
                self.starting = None
                time.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"le noyau Python n'a pas démarré après {KERNEL_START_ATTEMPTS} "
                           f"essais : {last}")

    def ensure(self) -> None:
        """A running kernel, started or restarted as needed."""
        if not self.alive():
            self.stop()
            self.start()

    def stop(self) -> None:
        """Shut the kernel down (used after a timeout or a crash, and at exit)."""
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            self._shutdown(self.km)
        self.km = self.kc = None

    def kill_now(self) -> None:
        """Kill the kernel's process group and remove its files, without waiting or
        talking to it (safe in a signal handler)."""
        for km in (self.km, self.starting):
            pid = getattr(getattr(km, "provisioner", None), "pid", None)
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)  # the kernel leads its own session
                except OSError:
                    pass
        self.remove_files()

    @staticmethod
    def _shutdown(km) -> None:
        from jupyter_core.utils import run_sync

        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass

    def timeout_for(self, cell) -> int:
        """Seconds left for the current page (nbclient's ``timeout_func``)."""
        return max(1, int(self.deadline - time.monotonic()))


_KERNEL: WarmKernel | None = None
_TEMPLATE = None
_LAYOUT: Layout = DEFAULT_LAYOUT
_PROGRESS = None  # multiprocessing queue of (code, ok, error), set by init_worker
_LAST_NOTEBOOK = None  # the notebook being executed (papermill does not write it here)
_PDF_SECONDS = 0.0  # how long the last page's printable fiche took in its kernel
STATIC_ENV = "TRADEBOOK_STATIC"  # where kernels write the charts shared between pages

# The namespace is reset between pages, as in a fresh kernel. IPython's reset ends
# with a full garbage collection (gc.collect), whose cost grows with what a kernel
# keeps from page to page (the region's and France's fiches and charts): it is
# skipped for the reset; the interpreter's own generational collection goes on.
RESET_CODE = """def _tradebook_reset():
    import gc
    collect, gc.collect = gc.collect, (lambda generation=2: 0)
    try:
        get_ipython().reset(new_session=True, aggressive=False)
    finally:
        gc.collect = collect
_tradebook_reset()
"""
# Run in the kernel once the page's cells have run: its printable fiche, from the
# page object the template built (its charts' specs are reused, not rebuilt).
PDF_CODE = "__import__('tradebook.printable').printable.write_page_pdf(page, {folder!r})"


class PdfStepError(Exception):
    """The kernel could not write the page's printable fiche."""


def _client_class():
    """The nbclient client of the warm engine (built lazily: papermill is slow to import)."""
    from papermill.clientwrap import PapermillNotebookClient

    class WarmClient(PapermillNotebookClient):
        """Papermill's client, resetting the reused kernel's namespace first."""

        def papermill_execute_cells(self):
            msg_id = self.kc.execute(RESET_CODE, silent=True, store_history=False)
            reply = self.wait_for_reply(msg_id)
            if (reply or {}).get("content", {}).get("status") != "ok":
                raise RuntimeError(f"remise à zéro du noyau impossible : {reply}")
            super().papermill_execute_cells()
            if self.nb.metadata.get("papermill", {}).get("exception"):
                return  # a cell failed: papermill reports it, there is no page to print
            global _PDF_SECONDS
            start = time.monotonic()
            code = PDF_CODE.format(folder=str(_LAYOUT.pdf))
            # a cell is passed only for the page's time limit (nbclient's timeout_func)
            reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False),
                                        self.nb.cells[-1])
            _PDF_SECONDS = time.monotonic() - start
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise PdfStepError(f"{content.get('ename', 'Erreur')} : "
                                   f"{content.get('evalue', 'pas de réponse du noyau')}")

    return WarmClient


def _engine_class():
    """A papermill engine executing on the worker's warm kernel."""
    from papermill.engines import NBClientEngine

    class WarmEngine(NBClientEngine):
        """Executes on the worker's long-lived kernel instead of starting one."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            import logging

            kernel = _KERNEL
            client = _client_class()(
                nb_man, km=kernel.km, kernel_name=kernel_name,
                timeout_func=kernel.timeout_for, startup_timeout=start_timeout,
                log=logging.getLogger("papermill"), log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file,
            )
            # The kernel's client, connected when the kernel started, serves page
            # after page: a new one would wait for the kernel's readiness and flush
            # its output channel, 0.2 s of nothing a page. Replies and outputs are
            # matched to their request, so what an earlier page left is ignored.
            client.kc = kernel.kc
            global _LAST_NOTEBOOK
            _LAST_NOTEBOOK = nb_man.nb  # kept for the failure report when a cell fails
            return client.execute()

    return WarmEngine


def _worker_terminated(signum, frame) -> None:
    """SIGTERM in a worker (the runner stops): kill the kernel at once, exit quietly."""
    if _KERNEL is not None:
        _KERNEL.kill_now()
    os._exit(128 + signum)


def init_worker(renderer: str, layout: Layout, progress=None, verbose: bool = False,
                book_pages: Sequence[str] = ()) -> None:
    """Worker process set-up: signals (Ctrl-C is the runner's business; SIGTERM kills
    the kernel and ends the worker), stderr into the journal unless ``verbose``,
    renderer for the kernels, the pages of the book (pages link only to those),
    papermill engine, template, and the queue where pages are reported as they end. The worker starts with SIGINT and SIGTERM blocked (see
    :func:`execute_pages`); they are unblocked once handled."""
    global _KERNEL, _TEMPLATE, _LAYOUT, _PROGRESS
    import atexit

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if not verbose:
        journal = os.open(layout.cache / WORKER_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(journal, 2)  # the kernels inherit it
        os.close(journal)

    import nbformat
    from papermill.engines import papermill_engines

    os.environ[render.RENDERER_ENV] = renderer
    os.environ[STATIC_ENV] = str(layout.static)
    if book_pages:
        os.environ[paths.BOOK_PAGES_ENV] = ",".join(book_pages)
    _LAYOUT = layout
    _PROGRESS = progress
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    papermill_engines.register(ENGINE_NAME, _engine_class())
    _TEMPLATE = nbformat.read(paths.TEMPLATE, as_version=4)  # written by build_book
    _KERNEL = WarmKernel(KERNEL_ARGUMENTS + ([] if verbose else QUIET_KERNEL))
    atexit.register(_KERNEL.remove_files)
    atexit.register(_KERNEL.stop)  # runs first


def execution_error(exc: BaseException, timeout: float) -> str:
    """A French one-line description of why a page failed."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        evalue = str(exc.evalue).strip().splitlines()
        return (f"cellule {exc.cell_index} : {exc.ename} : "
                f"{evalue[0] if evalue else ''}").rstrip(" :")
    if isinstance(exc, (CellTimeoutError, TimeoutError)):
        return f"délai dépassé : la page a pris plus de {timeout:g} s"
    if isinstance(exc, DeadKernelError):
        return f"le noyau Python s'est arrêté en cours d'exécution ({exc})"
    if isinstance(exc, PdfStepError):
        return f"fiche PDF : {exc}"
    return f"{type(exc).__name__} : {exc}"


def execute_page(job: PageJob, timeout: float) -> PageResult:
    """Execute one page on the worker's warm kernel and write its notebook atomically."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from tradebook.template import page_notebook

    global _LAST_NOTEBOOK, _PDF_SECONDS
    start = time.monotonic()
    _PDF_SECONDS = 0.0
    failed = _LAYOUT.failed / f"{job.code.replace('/', '-')}.ipynb"
    _LAST_NOTEBOOK = None
    try:
        _KERNEL.ensure()
        _KERNEL.deadline = time.monotonic() + timeout
        nb = papermill.execute_notebook(
            page_notebook(_TEMPLATE, job.zone.titre, job.zone.type), None,
            parameters=job.parameters,
            engine_name=ENGINE_NAME, kernel_name=KERNEL_NAME, progress_bar=False,
            request_save_on_cell_execute=False, log_output=False,
        )
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none hides
        if not isinstance(exc, PapermillExecutionError):
            _KERNEL.stop()  # timed out or crashed: next page gets a fresh kernel
        kept = ""
        if _LAST_NOTEBOOK is not None:
            failed.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(failed, nbformat.writes(_LAST_NOTEBOOK))
            kept = str(failed)
        return PageResult(job.code, False, time.monotonic() - start,
                          execution_error(exc, timeout), kept)
    finish_notebook(nb, job.key)
    job.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(job.output, nbformat.writes(nb))
    failed.unlink(missing_ok=True)
    return PageResult(job.code, True, time.monotonic() - start, pdf_seconds=_PDF_SECONDS)


# --------------------------------------------------------------------------- main side


def execute_batch(jobs: Sequence[PageJob], timeout: float) -> list[PageResult]:
    """Execute pages of one region in a row on the worker's kernel (the region's
    fiche and charts are then computed once); report each page as it ends."""
    results = []
    for job in jobs:
        result = execute_page(job, timeout)
        if _PROGRESS is not None:
            _PROGRESS.put((result.code, result.ok, result.error))
        results.append(result)
    return results


def region_batches(jobs: Sequence[PageJob], workers: int) -> list[list[PageJob]]:
    """Jobs grouped by region, a region split when it would exceed a fair share of one
    worker, largest batches first (so that workers end together)."""
    by_region: dict[str, list[PageJob]] = {}
    for job in jobs:
        by_region.setdefault(job.region, []).append(job)
    share = max(1, -(-len(jobs) // (2 * workers)))
    batches = [group[i:i + share] for group in by_region.values()
               for i in range(0, len(group), share)]
    return sorted(batches, key=len, reverse=True)


PROGRESS_FORMAT = ("{desc}\u00a0: {percentage:3.0f}\u00a0% |{bar}| {n_fmt}/{total_fmt} "
                   "[{elapsed}, reste {remaining}]")


@contextmanager
def signals_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back in the block (main thread only): processes started
    there inherit the block, so that a Ctrl-C during their start cannot print a
    traceback from them; a signal received meanwhile is delivered on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_processes(processes: Sequence, grace: float = STOP_GRACE) -> None:
    """Terminate ``processes`` (multiprocessing children), then kill those still alive
    after ``grace`` seconds."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(1.0)


def lost_worker_error(journal: Path | None) -> str:
    """Why a page failed when its worker process died."""
    where = f" ; détails dans {journal}" if journal is not None else ""
    return f"le processus qui l'exécutait s'est arrêté brutalement (mémoire insuffisante ?{where})"


def execute_pages(jobs: Sequence[PageJob], workers: int, timeout: float,
                  layout: Layout = DEFAULT_LAYOUT, progress: bool = True,
                  verbose: bool = False, book_pages: Sequence[str] = ()) -> list[PageResult]:
    """Execute ``jobs`` in ``workers`` processes with a progress bar; never raises for a page.
    ``book_pages``: the paths of every page of the book (pages link only to them).

    Without ``verbose`` the workers' and kernels' stderr goes to the journal
    (``layout.cache / WORKER_LOG``). On Ctrl-C, SIGTERM or any error here, the workers
    and their kernels are stopped at once (not after their current page) and the
    exception goes on.
    """
    import multiprocessing
    import queue
    from concurrent.futures import FIRST_COMPLETED, wait

    from tqdm import tqdm

    if not jobs:
        return []
    workers = max(1, min(workers, len(jobs)))
    layout.cache.mkdir(parents=True, exist_ok=True)
    journal = None if verbose else layout.cache / WORKER_LOG
    if journal is not None:
        journal.write_text("", encoding="utf-8")
    results: dict[str, PageResult] = {}
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    bar = tqdm(total=len(jobs), desc="Exécution des pages", unit="page", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, bar_format=PROGRESS_FORMAT)

    def drain(block: bool) -> None:
        while True:
            try:
                code, ok, error = messages.get(timeout=0.2) if block else messages.get_nowait()
            except queue.Empty:
                return
            block = False
            if not ok:
                bar.write(f"Échec de la page {code} : {error}")
            bar.update(1)

    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                               initargs=(render.BOOK_MODE, layout, messages, verbose,
                                         book_pages))
    try:
        with bar:
            with signals_blocked():  # the workers are started by submit()
                pending = {pool.submit(execute_batch, batch, timeout): batch
                           for batch in region_batches(jobs, workers)}
            while pending:
                drain(block=True)
                finished, _ = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch = pending.pop(future)
                    try:
                        results.update((r.code, r) for r in future.result())
                    except Exception:  # noqa: BLE001 - a dead worker fails its pages only
                        for job in batch:
                            if job.code not in results:
                                results[job.code] = PageResult(job.code, False,
                                                               error=lost_worker_error(journal))
                                bar.write(f"Échec de la page {job.code} : "
                                          f"{lost_worker_error(journal)}")
            drain(block=False)
        pool.shutdown(wait=True)
    except BaseException:
        with signals_blocked():  # a second Ctrl-C must not cut the clean-up short
            stop_processes([p for p in multiprocessing.active_children() if p not in before])
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    return [results[job.code] for job in jobs if job.code in results]


# --------------------------------------------------------------------------- toc and index


def yaml_string(text: str) -> str:
    """A YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def toc_yaml(zones: Sequence[Zone]) -> str:
    """The Jupyter Book table of contents of a book of ``zones`` (see :func:`book_zones`).

    The introduction (root), the methodology and the analyst's guide first; then
    France (its page and the index of départements); then one part per region, in
    publication order: the region's page, then its départements in natural code order.
    """
    selected = {(z.type, z.code) for z in zones}
    lines = [
        "# Généré par `python -m tradebook book` depuis data/nomenclatures/ : ne pas modifier à la main.",
        "# Les chemins sont relatifs à book/, le dossier des sources du livre.",
        "format: jb-book",
        f"root: {CHAPTERS[0]}",
        "parts:",
        f"  - caption: {yaml_string('Le livre')}",
        "    chapters:",
        *[f"      - file: {name}" for name in CHAPTERS[1:]],
        f"  - caption: {yaml_string('La France')}",
        "    chapters:",
        *([f"      - file: {paths.site_page('france', '')}"] if ("france", "FR") in selected
          else []),
        "      - file: departements/index",
        "      - file: exposition-etats-unis",
    ]
    for region in nomenclatures.regions():
        members = [d for d in nomenclatures.departements_of(region.code)
                   if d.page and ("departement", d.code) in selected]
        if not members:
            continue
        lines += [f"  - caption: {yaml_string(region.nom)}", "    chapters:"]
        if ("region", region.code) in selected:
            lines.append(f"      - file: {paths.site_page('region', region.code)}")
        lines += [f"      - file: {paths.site_page('departement', d.code)}" for d in members]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def book_rendering(layout: Layout, pages: Sequence[str] | None = None) -> Iterator[None]:
    """Render pages in this process as the kernels do for the book (offline HTML, shared
    files in the book's ``_static``, links to the book's ``pages`` only), for the time
    of a block."""
    names = (render.RENDERER_ENV, STATIC_ENV, paths.BOOK_PAGES_ENV)
    saved = {name: os.environ.get(name) for name in names}
    os.environ[render.RENDERER_ENV] = render.BOOK_MODE
    os.environ[STATIC_ENV] = str(layout.static)
    if pages is not None:
        os.environ[paths.BOOK_PAGES_ENV] = ",".join(pages)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


VIEWS_STATE = "vues"  # the national views' key in the runner's state


def write_national_pages(prepared, layout: Layout, state: dict[str, str],
                         zones: Sequence[Zone]) -> str:
    """Write the national views unless their inputs (code, data, the book's pages) are
    unchanged and their files are there; return their key (part of the site's key)."""
    from tradebook import figures

    pages = book_page_list(zones)
    key = hashlib.sha256(json.dumps([code_hash(), data_hash(Path(prepared.path)),
                                     PAGE_FORMAT, pages]).encode()).hexdigest()
    files = [layout.source / f"{paths.site_page(v)}.md" for v in figures.VIEWS]
    if state.get(VIEWS_STATE) != key or not all(f.is_file() for f in files):
        for path, text in national_pages(prepared, layout, pages).items():
            write_if_changed(path, text)
        state[VIEWS_STATE] = key
        write_state(state, layout.state)
    return key


def national_pages(prepared, layout: Layout = DEFAULT_LAYOUT,
                   pages: Sequence[str] | None = None) -> dict[Path, str]:
    """The national views (the index of départements, the exposure to the United
    States) as MyST Markdown, keyed by their source file: generated here, from
    France's fiche, without a kernel."""
    from tradebook import figures, report

    written = {}
    with book_rendering(layout, pages):
        for view in figures.VIEWS:
            page = report.national_page(view, prepared.annee, str(prepared.path))
            written[layout.source / f"{page.path}.md"] = report.page_markdown(page)
    return written


SHARED_NAME = re.compile(rf"_static/{paths.SHARED_CHARTS}/([\w.-]+\.js)")


def prune_shared_charts(layout: Layout) -> int:
    """Delete the shared chart scripts no executed page refers to; return how many."""
    folder = layout.static / paths.SHARED_CHARTS
    if not folder.is_dir():
        return 0
    used: set[str] = set()
    for notebook in layout.page_files():
        used.update(SHARED_NAME.findall(notebook.read_text(encoding="utf-8")))
    stale = [p for p in folder.glob("*.js") if p.name not in used]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` atomically unless the file already holds it (keeps Sphinx's
    incremental build from re-reading it); True when written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return True


# --------------------------------------------------------------------------- site


def site_jobs(workers: int) -> int:
    """Sphinx's processes for ``workers`` cores: one more, since its parallel build
    waits on serial steps between batches (whole book on 2 cores: 11.5 s with 2
    processes, 9.2 s with 3, 9.6 s with 4)."""
    return workers + 1


def build_command(layout: Layout, toc_path: Path, jobs: int, verbose: bool = False) -> list[str]:
    """The command building the site (a child process: Sphinx forks its workers)."""
    return [sys.executable, "-m", "tradebook.book", str(layout.source), str(layout.config),
            str(toc_path), str(layout.work), str(jobs), "1" if verbose else "0"]


def sphinx_build(source: Path, config: Path, toc_path: Path, work: Path, jobs: int,
                 verbose: bool = False) -> int:
    """Jupyter Book 1's build (``jupyter-book build book --config _config.yml --toc _toc.yml
    -W -n --keep-going``),
    through its Python API so that Sphinx can use ``jobs`` processes."""
    from jupyter_book.sphinx import build_sphinx

    result = build_sphinx(
        str(source), str(work / "_build" / "html"), noconfig=True,
        path_config=str(config),
        confoverrides={"external_toc_path": str(toc_path), "nitpicky": True,
                       "latex_individualpages": False},
        builder="html", warningiserror=True, keep_going=True, jobs=jobs, quiet=not verbose,
    )
    return 0 if result == 0 else 1


def site_key(layout: Layout, toc: str, jobs: Sequence[PageJob], index: str) -> str:
    """Hash of everything the site is built from, and of the PDFs published with it."""
    from tradebook import sphinxext  # the site is built with it: its code is a source

    sources = [layout.config, *[layout.source / f"{name}.md" for name in CHAPTERS],
               *[p for p in layout.static.rglob("*") if p.is_file()],
               *[j.output for j in jobs], *[j.pdf for j in jobs]]
    payload = json.dumps({
        "sources": sha256_files([p for p in sources if p.is_file()], layout.top),
        "toc": toc, "index": index,
        "jupyter-book": metadata.version("jupyter-book"),
        "extension": hashlib.sha256(Path(sphinxext.__file__).read_bytes()).hexdigest(),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def published_key(site: Path) -> str:
    """Key of the site currently published (empty when none)."""
    try:
        return json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))["cle"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return ""


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """End ``process`` and every process of its group (it leads a session of its own):
    SIGTERM, then SIGKILL after ``grace`` seconds for whatever is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its forked workers too
    except ProcessLookupError:
        pass
    process.wait()


def build_site(layout: Layout, toc_path: Path, jobs: int, verbose: bool = False) -> Path:
    """Run Jupyter Book (strict) into the persistent work folder; return its HTML folder.

    Sphinx runs in a child process leading its own process group, so that Ctrl-C,
    SIGTERM or any error here stops it and its workers at once. Its output goes to the
    terminal with ``verbose``, else to ``layout.cache / SITE_LOG`` (quoted on failure).
    """
    log = layout.cache / SITE_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as output:
        sink = None if verbose else output
        process = None
        try:
            process = subprocess.Popen(build_command(layout, toc_path, jobs, verbose),
                                       stdout=sink, stderr=subprocess.STDOUT if sink else None,
                                       cwd=paths.ROOT, start_new_session=True)
            returncode = process.wait()
        except BaseException:
            if process is not None:
                with signals_blocked():  # a second Ctrl-C must not cut the clean-up short
                    stop_process_group(process)
            raise
    if returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        warnings = [line for line in lines if "WARNING" in line or "ERROR" in line]
        shown = "\n".join((warnings or lines)[-30:])
        raise BookError("La construction du site par Jupyter Book a échoué (un avertissement "
                        "suffit, -W) ; le site publié n'a pas été modifié."
                        + (f"\n{shown}\nJournal complet : {log}" if not verbose else ""))
    return layout.work / "_build" / "html"


def drop_unlisted_pages(site: Path, pages: Iterable[str]) -> list[str]:
    """Remove the zone pages left in ``site`` by earlier, larger builds.

    Sphinx's persistent output keeps the HTML of pages no longer in the table of
    contents; publishing them would show stale figures. ``pages``: the paths of the
    pages to keep (``departements/61``...). Returns the removed paths.
    """
    keep = {f"{page}.html" for page in pages} | {"departements/index.html"}
    candidates = [site / f"{paths.site_page('france', '')}.html",
                  *[p for folder in paths.PAGE_FOLDERS.values() if folder
                    for p in (site / folder).glob("*.html")]]
    removed = []
    for page in sorted(p for p in candidates if p.is_file()):
        name = page.relative_to(site).as_posix()
        if name not in keep:
            page.unlink()
            removed.append(name)
    return removed


def not_for_readers(folder: str, names: list[str]) -> set[str]:
    """What the theme ships in ``_static`` for its developers and its build, which a
    reader's browser never asks for: source maps of its scripts (3.4 MB), its
    translations of the site's words into other languages (0.7 MB), and the TrueType
    copies of its icon fonts beside their WOFF2 versions, which every browser since
    2016 takes (0.6 MB)."""
    skipped = {name for name in names if name.endswith(".map")}
    skipped |= {name for name in names
                if name.endswith(".ttf") and name.removesuffix(".ttf") + ".woff2" in names}
    if Path(folder).name == "_static" and "locales" in names:
        skipped.add("locales")
    return skipped


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (the PDFs are written by renaming a new
    file, never rewritten in place), or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish(built: Path, key: str, target: Path, pages: Iterable[str] | None = None,
            pdfs: Iterable[Path] = ()) -> None:
    """Copy the built site next to ``target`` and swap folders (never a half site).

    With ``pages`` (paths such as ``departements/61``), only those zone pages are
    published; ``pdfs``, the pages' printable fiches, go to ``pdf/``.
    """
    from tradebook.report import PDF_FOLDER

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".html-nouveau-"))
    try:
        shutil.copytree(built, staging, dirs_exist_ok=True, ignore=not_for_readers)
        if pages is not None:
            drop_unlisted_pages(staging, pages)
        shutil.rmtree(staging / PDF_FOLDER, ignore_errors=True)
        for path in pdfs:
            (staging / PDF_FOLDER).mkdir(exist_ok=True)
            link_or_copy(path, staging / PDF_FOLDER / path.name)
        (staging / ".buildinfo").unlink(missing_ok=True)
        (staging / SITE_MARKER).write_text(json.dumps({"cle": key}), encoding="utf-8")
        old = None
        if target.exists():
            old = target.parent / f".html-ancien-{os.getpid()}"
            os.replace(target, old)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- runner


@dataclass
class RunSummary:
    """What one run did (used by the benchmark and the tests)."""

    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[PageResult] = field(default_factory=list)
    site: str = ""  # "construit", "inchangé" or "" (not built)
    timings: dict[str, float] = field(default_factory=dict)


def failure_report(failures: Sequence[PageResult]) -> str:
    """The French list of failed pages and their errors."""
    lines = [f"{len(failures)} page(s) en échec :"]
    for failure in failures:
        lines.append(f"  - {failure.code} : {failure.error}")
        if failure.notebook:
            lines.append(f"    notebook conservé : {failure.notebook}")
    return "\n".join(lines)


def lock_holder(fd: int) -> str:
    """The PID written in a lock file by the run holding it ("" when not yet written)."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", errors="replace").strip()
    return text if text.isdigit() else ""


def _same_file(fd: int, path: Path) -> bool:
    """True when ``path`` still names the open file ``fd`` (it was not removed meanwhile)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


@contextmanager
def build_lock(layout: Layout, log=print) -> Iterator[None]:
    """One book build at a time for ``layout``: a second run waits for the first, saying
    so, then builds (its data are the newer; unchanged pages are not executed again).

    The lock is ``flock`` on ``layout.cache / LOCK_NAME``, which holds the holder's PID;
    the holder removes the file before releasing it, and a waiter whose file was
    removed meanwhile locks the new one, so no lock file is left behind and two runs
    never hold it together. The system releases the lock of a killed run.
    """
    import fcntl

    path = layout.cache / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    said = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not said:
                    holder = lock_holder(fd)
                    log(f"Une autre construction du livre est en cours"
                        f"{f' (PID {holder})' if holder else ''} : attente…")
                    said = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def build_book(deps: Sequence[Zone], prepared, *, workers: int, timeout: float,
               site: bool = True, progress: bool = True, log=print,
               layout: Layout = DEFAULT_LAYOUT, verbose: bool = False) -> RunSummary:
    """Execute the pages of ``deps`` that changed and build the site; return a summary.

    Runs under :func:`build_lock` (a concurrent run waits). Raises :class:`BookError`
    after listing the failed pages, or when the site build fails; the published site
    is then left as it was, and so it is on Ctrl-C or SIGTERM.
    """
    with build_lock(layout, log):
        return _build_book(deps, prepared, workers=workers, timeout=timeout, site=site,
                           progress=progress, log=log, layout=layout, verbose=verbose)


def _build_book(deps: Sequence[Zone], prepared, *, workers: int, timeout: float, site: bool,
                progress: bool, log, layout: Layout, verbose: bool) -> RunSummary:
    """:func:`build_book` once the lock is held."""
    from tradebook.template import template_text

    summary = RunSummary()
    clock = time.monotonic()
    write_if_changed(paths.TEMPLATE, template_text())
    zones = book_zones(deps)
    jobs = plan_pages(zones, Path(prepared.path), prepared.annee, layout)
    state = read_state(layout.state)
    todo = pages_to_run(jobs, state)
    summary.skipped = [j.code for j in jobs if j not in todo]
    if summary.skipped:
        log(f"{len(summary.skipped)} page(s) inchangée(s), non réexécutée(s).")
    results = execute_pages(todo, workers, timeout, layout, progress=progress, verbose=verbose,
                            book_pages=book_page_list(zones))
    # the printable fiches are written by the kernels as each page ends: their share
    # of the execution, in wall-clock seconds (summed over pages, over the workers)
    summary.timings["pdf"] = (sum(r.pdf_seconds for r in results)
                              / max(1, min(workers, len(todo))))
    for result in results:
        if result.ok:
            state[result.code] = next(j.key for j in todo if j.code == result.code)
            summary.executed.append(result.code)
        else:
            state.pop(result.code, None)
            summary.failures.append(result)
    write_state(state, layout.state)
    if summary.executed:
        prune_shared_charts(layout)
    summary.timings["execution"] = time.monotonic() - clock
    if summary.failures:
        raise BookError(failure_report(summary.failures) + "\nLe site n'a pas été publié ; "
                        "corrigez ces pages puis relancez (les pages réussies ne seront pas "
                        "réexécutées).")
    if not site:
        return summary

    clock = time.monotonic()
    full = len(deps) == len(nomenclatures.page_departements())
    toc = toc_yaml(zones)
    toc_path = layout.toc if full else layout.selection_toc
    write_if_changed(toc_path, toc)
    index = write_national_pages(prepared, layout, state, zones)
    render.write_vega_bundle(layout.static)
    key = site_key(layout, toc, jobs, index)
    if key == published_key(layout.published) and (layout.published / "index.html").is_file():
        summary.site = "inchangé"
    else:
        log("Construction du site…")
        built = build_site(layout, toc_path, site_jobs(workers), verbose)
        publish(built, key, layout.published, [j.code for j in jobs], [j.pdf for j in jobs])
        summary.site = "construit"
    summary.timings["site"] = time.monotonic() - clock
    return summary


if __name__ == "__main__":  # the site build child process (see build_command)
    sys.exit(sphinx_build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]),
                          Path(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1"))
