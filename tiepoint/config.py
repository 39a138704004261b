"""Configuration: a YAML file, a dict, or the defaults, validated with pydantic.

Nothing is read at import time. :func:`load_config` resolves, in order, an explicit path or dict,
``$TIEPOINT_CONFIG``, ``./tiepoint.yml``, then the built-in defaults. Errors name the key and why.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tiepoint.errors import ConfigError

DEFAULT_CONFIG_NAME = "tiepoint.yml"
CONFIG_ENV_VAR = "TIEPOINT_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BodyConfig(_Section):
    """The target body's reference ellipsoid (metres) and its SRID.

    The default is Mars, IAU_2015:49902 ("Mars (2015) / Ocentric": the IAU ellipsoid with planetocentric
    latitude, which is what tiepoint computes). IAU_2015:49900 is the Mars sphere (semiminor = semimajor).
    """

    name: str = "Mars"
    semimajor: float = Field(3396190.0, gt=0)
    semiminor: float = Field(3376200.0, gt=0)
    srid: int = 49902


class DatabaseConfig(_Section):
    """Where results go: ``sqlite:///file.gpkg`` (embedded default) or ``postgresql+psycopg://...``."""

    url: str = "sqlite:///tiepoint.gpkg"
    body: BodyConfig = Field(default_factory=BodyConfig)
    spool_dir: str | None = Field(
        None,
        description="where results wait while the database is unavailable; default: beside the SQLite "
        "file, or ~/.cache/tiepoint/spool for a server",
    )


class SlurmConfig(_Section):
    """dask-jobqueue SLURMCluster settings."""

    queue: str | None = None
    account: str | None = None
    cores: int = Field(1, ge=1)
    processes: int = Field(1, ge=1)
    memory: str = "4GiB"
    walltime: str = "01:00:00"
    jobs: int = Field(1, ge=1)
    adapt_max_jobs: int | None = None
    log_directory: str | None = None
    job_script_prologue: list[str] = Field(default_factory=list)
    job_extra_directives: list[str] = Field(default_factory=list)
    interface: str | None = None
    local_directory: str | None = None

    @field_validator("walltime", mode="before")
    @classmethod
    def _walltime_from_seconds(cls, value: Any) -> Any:
        """YAML 1.1 reads an unquoted ``1:00:00`` as 3600 (base 60): turn seconds back into H:MM:SS."""
        if isinstance(value, int) and not isinstance(value, bool):
            hours, rest = divmod(value, 3600)
            return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return value


class ClusterConfig(_Section):
    """Where jobs run: a Dask LocalCluster, an existing scheduler, or SLURM."""

    kind: Literal["local", "scheduler", "slurm"] = "local"
    workers: int | None = Field(None, ge=1, description="local workers; default: CPU cores")
    threads_per_worker: int = Field(1, ge=1)
    memory_limit: str | None = "auto"
    maxfailures: int = Field(3, ge=1)
    address: str | None = None
    host: str = "127.0.0.1"
    dashboard: bool = True
    slurm: SlurmConfig = Field(default_factory=SlurmConfig)


class FeaturesConfig(_Section):
    """Interest-point extraction settings."""

    extractor: Literal["sift", "orb", "akaze"] = "sift"
    params: dict[str, Any] = Field(default_factory=dict, description="extractor parameters")
    stretch_percentiles: tuple[float, float] = (0.5, 99.5)
    tile_threshold: int = Field(
        500_000,
        ge=1,
        description="pixels above which to tile (smaller images run whole: faster there; README, "
        "'Memory per worker')",
    )
    tile_size: int = Field(
        512,
        ge=64,
        description="tile side in px: SIFT on 512 px tiles is faster than on the whole image and "
        "bounds memory (README, 'Memory per worker')",
    )
    tile_overlap: int = Field(64, ge=0)
    edge_margin: int = Field(8, ge=0, description="no keypoint within this many px of no-data")


class FootprintConfig(_Section):
    """Footprint computation settings."""

    points_per_edge: int | None = Field(None, ge=2, description="None: adaptive (<= 0.25 px chord error)")
    longitude_domain: Literal[360, 180] = 360
    source: Literal["camera", "cube"] = "camera"


class OutputConfig(_Section):
    """Where keypoint files are written; ``None`` puts ``<image-stem>.h5`` beside the image."""

    keypoint_dir: str | None = None


class Config(_Section):
    """The whole tiepoint configuration."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    footprint: FootprintConfig = Field(default_factory=FootprintConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)


def _format_validation_error(err: ValidationError, source: str) -> str:
    parts = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{key}: {item['msg']}")
    return f"invalid configuration ({source}): " + "; ".join(parts)


def load_config(config: str | os.PathLike[str] | dict[str, Any] | Config | None = None) -> Config:
    """Load and validate a configuration.

    Parameters
    ----------
    config : path, dict, Config or None
        A YAML file, a mapping with the same structure, an existing :class:`Config`, or None to
        use ``$TIEPOINT_CONFIG``, then ``./tiepoint.yml``, then the defaults.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the file is missing or not YAML, or a key is unknown or has a bad value.
    """
    if isinstance(config, Config):
        return config
    path: Path | None = None
    if config is None:
        env = os.environ.get(CONFIG_ENV_VAR)
        if env:
            path = Path(env)
        elif Path(DEFAULT_CONFIG_NAME).is_file():
            path = Path(DEFAULT_CONFIG_NAME)
        data: Any = {}
    elif isinstance(config, dict):
        data = config
    else:
        path = Path(config)
    source = "dict" if isinstance(config, dict) else "defaults"
    if path is not None:
        source = str(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError("configuration file does not exist", path) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {exc}", path) from None
        if not isinstance(data, dict):
            raise ConfigError("the top level must be a mapping of sections", path)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None
