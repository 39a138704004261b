"""Configuration: a YAML file, a dict, or the defaults, validated with pydantic.

Nothing is read at import time. :func:`load_config` resolves, in order, an explicit path or dict,
``$TIEPOINT_CONFIG``, ``./tiepoint.yml``, then the built-in defaults. Errors name the key and why.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tiepoint.errors import ConfigError

DEFAULT_CONFIG_NAME = "tiepoint.yml"
CONFIG_ENV_VAR = "TIEPOINT_CONFIG"


ExtractorName = Literal["sift", "orb", "akaze"]
"""The feature extractors (:mod:`tiepoint.features.extractors` has one plug-in per name)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BodyConfig(_Section):
    """The target body's reference ellipsoid (metres) and its SRID.

    The default is Mars, IAU_2015:49902 ("Mars (2015) / Ocentric": the IAU ellipsoid with planetocentric
    latitude, which is what tiepoint computes). IAU_2015:49900 is the Mars sphere (semiminor = semimajor).
    """

    name: str = Field("Mars", description="the body's name (shown in maps and messages)")
    semimajor: float = Field(3396190.0, gt=0, description="equatorial radius (m)")
    semiminor: float = Field(3376200.0, gt=0, description="polar radius (m)")
    srid: int = Field(49902, description="spatial reference id written with footprints (IAU code)")


_PASSWORD_IN_URL = re.compile(r"(?P<head>[^/@:\s]+:)[^@/\s]*@")


def redact_url(url: Any) -> str:
    """A database URL for display: the password, if any, replaced by ``***``.

    Works on URLs SQLAlchemy cannot parse too (a malformed URL is still shown without its password).
    """
    text = str(url)
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # not parseable: mask what looks like user:password@
        return _PASSWORD_IN_URL.sub(r"\g<head>***@", text)


def check_database_url(url: str) -> str:
    """Check that *url* names a backend tiepoint supports, with a well-formed host and port.

    Raises
    ------
    ValueError
        Saying what is wrong, without the password.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = redact_url(url)
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    except ArgumentError:
        raise ValueError(f"not a database URL: {shown}") from None
    except ValueError:  # SQLAlchemy parses the port as it parses the URL
        raise ValueError(f"the port is not a number in {shown}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported backend {backend!r} in {shown} (use sqlite:/// or postgresql://)")
    if backend == "postgresql" and parsed.drivername not in ("postgresql", "postgresql+psycopg"):
        raise ValueError(f"unsupported driver {parsed.drivername!r} in {shown} (use postgresql+psycopg)")
    if backend == "sqlite":
        try:
            parsed.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"unsupported driver {parsed.drivername!r} in {shown} (use sqlite:///)"
            ) from None
    return url


class DatabaseConfig(_Section):
    """Where results go: ``sqlite:///file.gpkg`` (embedded default) or ``postgresql+psycopg://...``.

    The URL's password never appears in reprs, logs or messages (see :func:`redact_url`), and the
    database settings are never sent to the workers (see :meth:`Config.for_jobs`).
    """

    url: str = Field(
        "sqlite:///tiepoint.gpkg",
        description="sqlite:///file.gpkg (a GeoPackage, opens in QGIS) or postgresql+psycopg://user@host/db",
    )
    body: BodyConfig = Field(default_factory=BodyConfig, description="The target body's reference ellipsoid.")
    spool_dir: str | None = Field(
        None,
        description="where results wait while the database is unavailable; default: beside the SQLite "
        "file, or ~/.cache/tiepoint/spool for a server",
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        return check_database_url(value)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "url" else value


class SlurmConfig(_Section):
    """dask-jobqueue SLURMCluster settings."""

    queue: str | None = Field(None, description="partition")
    account: str | None = Field(None, description="account to charge (sbatch --account)")
    cores: int = Field(1, ge=1, description="cores per SLURM job")
    processes: int = Field(1, ge=1, description="Dask worker processes per SLURM job")
    memory: str = Field("4GiB", description="memory per SLURM job (not above the node's RealMemory)")
    walltime: str = Field("01:00:00", description="time limit per SLURM job")
    jobs: int = Field(1, ge=1, description="SLURM jobs (each with `processes` workers) started at once")
    adapt_max_jobs: int | None = Field(
        None, description="if set, adapt between `jobs` and this many SLURM jobs"
    )
    log_directory: str | None = Field(None, description="where the SLURM jobs write their output")
    job_script_prologue: list[str] = Field(
        default_factory=list, description="shell lines run before the worker starts, e.g. module load"
    )
    job_extra_directives: list[str] = Field(
        default_factory=list, description="extra #SBATCH lines, e.g. --constraint=skylake"
    )
    interface: str | None = Field(
        None, description="network interface of scheduler and workers, e.g. ib0 (lo for one node)"
    )
    local_directory: str | None = Field(None, description="workers' scratch folder on the compute nodes")

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

    kind: Literal["local", "scheduler", "slurm"] = Field(
        "local", description="local (Dask LocalCluster) | scheduler (an existing Dask scheduler) | slurm"
    )
    workers: int | None = Field(None, ge=1, description="local workers; default: CPU cores")
    threads_per_worker: int = Field(1, ge=1, description="threads per local worker process")
    memory_limit: str | None = Field(
        "auto", description="memory limit per local worker ('auto' shares the machine's memory)"
    )
    maxfailures: int = Field(
        3, ge=1, description="failed attempts after which a job is given up (rerun with `tiepoint retry`)"
    )
    address: str | None = Field(
        None, description="scheduler address for kind: scheduler, e.g. tcp://10.0.0.5:8786"
    )
    host: str = Field(
        "127.0.0.1",
        description="interface the scheduler and local workers listen on (loopback unless changed)",
    )
    dashboard: bool = Field(
        True, description="serve the Dask dashboard on a free port of cluster.host (link in repr and logs)"
    )
    slurm: SlurmConfig = Field(
        default_factory=SlurmConfig, description="dask-jobqueue SLURMCluster settings (kind: slurm)."
    )


class FeaturesConfig(_Section):
    """Interest-point extraction settings."""

    extractor: ExtractorName = Field("sift", description="sift | orb | akaze")
    params: dict[str, Any] = Field(
        default_factory=dict, description="extractor parameters (OpenCV's names; checked by the extractor)"
    )
    stretch_percentiles: tuple[float, float] = Field(
        (0.5, 99.5), description="percentile stretch to 8 bits before extraction"
    )
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
    tile_overlap: int = Field(64, ge=0, description="overlap (px) between tiles")
    edge_margin: int = Field(8, ge=0, description="no keypoint within this many px of no-data")

    @field_validator("params")
    @classmethod
    def _check_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Each key known to the extractor, of its type and in its range (the plug-in's ``Params``)."""
        extractor = info.data.get("extractor")
        if params and extractor is not None:
            from tiepoint.errors import FeatureError
            from tiepoint.features.extractors import check_params  # lazy: imports OpenCV

            try:
                check_params(extractor, params)
            except FeatureError as exc:
                raise PydanticCustomError("extractor_params", "{message}", {"message": exc.message}) from None
        return params


class FootprintConfig(_Section):
    """Footprint computation settings."""

    points_per_edge: int | None = Field(None, ge=2, description="None: adaptive (<= 0.25 px chord error)")
    longitude_domain: Literal[360, 180] = Field(
        360, description="360 (0..360, positive east) or 180 (-180..180)"
    )
    source: Literal["camera", "cube"] = Field(
        "camera", description="camera (project the image border) or cube (the cube's footprint blob)"
    )


class OutputConfig(_Section):
    """Where keypoint files are written; ``None`` puts ``<image-stem>.h5`` beside the image."""

    keypoint_dir: str | None = Field(
        None, description="folder of <image-stem>.h5 keypoint files; null: beside each image"
    )


class PairsConfig(_Section):
    """Which overlapping image pairs are matched."""

    min_overlap_km2: float = Field(1.0, ge=0, description="smallest footprint overlap matched (km^2)")
    max_neighbours: int | None = Field(
        None, ge=1, description="keep at most this many largest overlaps per image; None: all"
    )


MatcherName = Literal["gated", "bf"]
"""The matcher plug-ins (one module each in :mod:`tiepoint.matching.matchers`)."""
MATCHER_NAMES: tuple[str, ...] = get_args(MatcherName)
"""The matcher names (``tiepoint.matching.matchers.MATCHERS``; a test pins the two together)."""


class MatcherConfig(_Section):
    """How descriptors are matched: a plug-in of ``tiepoint.matching.matchers`` and its parameters."""

    name: MatcherName = Field(
        "gated",
        description="gated: candidates near each keypoint's a-priori ground position (needs cameras; "
        "image-space pairs use bf) | bf: exact brute force or FLANN in descriptor space",
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="matcher parameters over the plug-in's defaults (gated: ground_radius_m, ratio, mutual, "
        "...; see tiepoint.matching.matchers); unknown names are an error",
    )

    @model_validator(mode="after")
    def _check_params(self) -> MatcherConfig:
        from tiepoint.errors import MatchingError
        from tiepoint.matching.matchers import load_matcher  # lazy: matching imports this module

        try:
            load_matcher(self.name, self.params)
        except MatchingError as exc:  # pydantic reports a ValueError under this section's key
            raise ValueError(exc.message) from None
        return self


class VerificationConfig(_Section):
    """Geometric verification of the raw matches (line-scan safe: local models, no global F or H)."""

    ground_mad_factor: float = Field(
        3.0,
        gt=0,
        description="reject a match whose ground offset is more than this many robust sigmas (1.4826 "
        "MAD) from the median offset of its neighbours",
    )
    ground_floor_m: float = Field(
        30.0, ge=0, description="never reject a ground offset this close (m) to its neighbours' median"
    )
    ground_neighbours: int = Field(
        25, ge=3, description="matches (nearest on the ground) whose median offset a match is compared to"
    )
    model: Literal["affine", "homography"] = Field(
        "affine", description="local image-space model fitted per tile of image a (pairs with cameras)"
    )
    tile_px: int = Field(1024, ge=64, description="tile size (pixels of image a) of the local models")
    ransac_px: float = Field(1.5, gt=0, description="RANSAC (USAC MAGSAC) inlier threshold, pixels")
    confidence: float = Field(0.999, gt=0, lt=1, description="RANSAC confidence")
    max_iters: int = Field(2000, ge=1, description="RANSAC iterations at most")
    min_inliers: int = Field(
        12, ge=4, description="a tile's model, or an image-space pair, with fewer inliers keeps no match"
    )
    image_model: Literal["fundamental", "homography"] = Field(
        "fundamental", description="model of pairs matched in image space (no cameras): one per pair"
    )
    image_planar_px: float | None = Field(
        10.0,
        gt=0,
        description="with image_model fundamental: also reject matches farther than this (px) from one "
        "coarse homography (nearly planar ground seen from orbit); null: no such check",
    )


class ThinningConfig(_Section):
    """Even distribution of the verified matches over the overlap (grid cells, best match per cell)."""

    enabled: bool = Field(True, description="thin the verified matches (all are kept in the match file)")
    per_km2: float = Field(50.0, gt=0, description="target matches per km^2 of overlap (pairs with cameras)")
    max_matches: int = Field(
        2000, ge=1, description="at most this many matches per pair; the target of image-space pairs"
    )


class MatchingConfig(_Section):
    """Pairwise matching: which pairs, how descriptors match, how matches are verified and thinned."""

    pairs: PairsConfig = Field(
        default_factory=PairsConfig, description="Which image pairs are matched (the overlap graph)."
    )
    matcher: MatcherConfig = Field(default_factory=MatcherConfig)
    verification: VerificationConfig = Field(default_factory=VerificationConfig)
    thinning: ThinningConfig = Field(default_factory=ThinningConfig)
    match_dir: str | None = Field(
        None,
        description="folder of the per-pair match files <stem_a>__<stem_b>.h5; null: a 'matches' folder "
        "beside image a's keypoint file",
    )


class TracksConfig(_Section):
    """Multi-image points (tracks) from the verified pair matches."""

    max_spread_m: float | None = Field(
        100.0,
        gt=0,
        description="cut matches whose ends, and drop points whose measures, lie farther apart on the ground "
        "(m, after removing each image's pointing offset); null: no ground check",
    )


class AprioriConfig(_Section):
    """A-priori ground points: least-squares intersection of the measures' camera rays."""

    min_convergence_deg: float = Field(
        2.0,
        ge=0,
        description="rays converging less than this (deg) fall back to the mean of the measures' ground",
    )
    max_height_m: float = Field(
        30000.0,
        gt=0,
        description="a ray intersection farther above or below the ellipsoid than this (m) falls back too",
    )
    max_height_error_m: float = Field(
        250.0,
        gt=0,
        description="so does one whose rays miss each other so far that its height is this uncertain (m): "
        "RMS miss distance / sin(convergence / 2); a-priori cameras with pointing errors fall back",
    )


class RegistrationConfig(_Section):
    """Sub-pixel registration of each measure to its point's reference measure (normalized correlation)."""

    enabled: bool = Field(
        True,
        description="register the measures (false: they keep their keypoint positions, pending, for a later "
        "run; `tiepoint network --no-subpixel` does the same for one run)",
    )
    template_px: int = Field(
        41,
        ge=5,
        description="template size (px, odd): the reference chip whose peak is the registered position",
    )
    second_template_px: int | None = Field(
        31, ge=5, description="second template size (px, odd) whose peak must agree; null: no consensus check"
    )
    search_px: int = Field(55, ge=9, description="search chip size (px, odd) around the a-priori position")
    min_ncc: float = Field(0.6, ge=-1, le=1, description="smallest accepted correlation peak")
    max_shift_px: float = Field(5.0, gt=0, description="largest accepted shift from the a-priori position")
    consensus_px: float = Field(0.5, gt=0, description="largest accepted disagreement of the two templates")
    min_texture: float = Field(
        0.2,
        ge=-1,
        le=1,
        description="smallest lag-1 autocorrelation of the search chip's centre: below it the ground is "
        "featureless or in shadow (noise only)",
    )
    interpolation: Literal["linear", "cubic"] = Field(
        "cubic", description="interpolation when warping the reference chip into the measure image"
    )

    @model_validator(mode="after")
    def _sizes(self) -> RegistrationConfig:
        sizes = {"template_px": self.template_px, "search_px": self.search_px}
        if self.second_template_px is not None:
            sizes["second_template_px"] = self.second_template_px
        even = [k for k, v in sizes.items() if v % 2 == 0]
        if even:
            raise ValueError(f"{', '.join(even)} must be odd (a chip has a central pixel)")
        largest = max(self.template_px, self.second_template_px or 0)
        need = largest + 2 * math.ceil(self.max_shift_px) + 2
        if self.search_px < need:
            raise ValueError(
                f"search_px ({self.search_px}) must be at least the largest template ({largest}) plus twice "
                f"max_shift_px ({self.max_shift_px}) plus 2: {need}"
            )
        return self


class NetworkConfig(_Section):
    """The control network: points from matches, a-priori ground points, sub-pixel registration."""

    tracks: TracksConfig = Field(default_factory=TracksConfig)
    apriori: AprioriConfig = Field(default_factory=AprioriConfig)
    registration: RegistrationConfig = Field(default_factory=RegistrationConfig)


class JobConfig(_Section):
    """The stage settings that jobs on the workers get: never the database or the cluster settings."""

    features: FeaturesConfig = Field(default_factory=FeaturesConfig, description="Interest-point extraction.")
    footprint: FootprintConfig = Field(default_factory=FootprintConfig, description="Footprints.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Keypoint files.")
    matching: MatchingConfig = Field(
        default_factory=MatchingConfig,
        description="Pairwise matching: which pairs, how descriptors match, verification, thinning.",
    )
    network: NetworkConfig = Field(
        default_factory=NetworkConfig,
        description="The control network: points, a-priori ground points, sub-pixel registration.",
    )


class Config(JobConfig):
    """The whole tiepoint configuration: where results go and jobs run, and the stage settings."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Where results go.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="Where jobs run.")

    def for_jobs(self) -> JobConfig:
        """The part of the configuration sent to the workers (no database URL, no cluster)."""
        return JobConfig.model_validate({name: getattr(self, name) for name in JobConfig.model_fields})


SectionT = TypeVar("SectionT", bound=BaseModel)


def config_section(config: Any, name: str, cls: type[SectionT]) -> SectionT:
    """The *name* section of a configuration, whatever form a stage function was given.

    Parameters
    ----------
    config : Config, JobConfig, the section itself, a dict of the section's keys, or None
        None gives the section's defaults.
    name : str
        The section's key, e.g. ``"footprint"``.
    cls : type
        The section's class, e.g. :class:`FootprintConfig`.

    Raises
    ------
    ConfigError
        If a dict does not validate, or *config* is of another type.
    """
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, JobConfig):
        return getattr(config, name)
    if isinstance(config, dict):
        try:
            return cls.model_validate(config)
        except ValidationError as exc:
            raise ConfigError(_format_validation_error(exc, f"{name} section")) from None
    raise ConfigError(f"expected a configuration or its {name!r} section, got {type(config).__name__}")


def _format_validation_error(err: ValidationError, source: str) -> str:
    parts = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{key}: {item['msg']}")
    return f"invalid configuration ({source}): " + "; ".join(parts)


def load_job_config(config: str | os.PathLike[str] | dict[str, Any] | JobConfig | None = None) -> JobConfig:
    """The stage settings a job uses: a :class:`JobConfig` (or :class:`Config`) as is, else
    :func:`load_config` of *config*."""
    return config if isinstance(config, JobConfig) else load_config(config)


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
