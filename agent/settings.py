"""The one place settings are read: environment variables (SCENESHOP_*, OPENAI_*) and an optional
sceneshop.toml (current folder, or the file named by SCENESHOP_CONFIG)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCENESHOP_", extra="ignore")

    # Where memory, thumbnails and results live; never inside the checkout by default.
    data_dir: Path = Path.home() / ".sceneshop"
    # Whose recipe memory the CLI uses by default (SCENESHOP_USER); the web app uses the login name.
    user: str = "local"

    # LLM planner: used only when an API key (or a base URL of a local server) is set.
    openai_api_key: str | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 60.0
    llm_retries: int = 2

    # Diffusion engine: a hub id or a local folder; nothing set = the embedded preview renderer.
    diffusion_model: str | None = None
    inpaint_model: str | None = None
    lora_dir: Path | None = None
    device: str | None = None  # cuda | mps | cpu; None = choose automatically
    dtype: str | None = None  # float16 | bfloat16 | float32; None = fp16 on CUDA, fp32 elsewhere
    fuse_loras: bool = False

    # Result files of sessions and jobs in the work store: `sceneshop cleanup` removes those older
    # than this many days (SCENESHOP_RESULT_RETENTION_DAYS; 0 = keep them forever).
    result_retention_days: float = Field(30.0, ge=0)
    # A Ray cluster for batches (SCENESHOP_RAY_ADDRESS: "auto", "ray://host:10001"); None = in-process.
    ray_address: str | None = None

    # Studio (Gradio app).
    host: str = "127.0.0.1"
    port: int = 7860
    users: str | None = None  # "alice:pw1,bob:pw2" turns on Gradio login
    concurrency: int = 2
    max_upload_mb: float = 25.0
    max_pixels: int = 40_000_000
    # The studio's upload cache, all users together: beyond this the oldest uploads are deleted first.
    upload_cache_mb: float = Field(1024.0, gt=0)
    # Uploads and the copies of results the studio's web server holds for its pages are deleted this
    # many seconds after they were last handed out (and all of them when the studio stops).
    cache_keep_s: int = Field(3600, ge=1)
    # Sign-in throttle: this many wrong passwords per name (4x per address) in `login_window_s` are
    # answered at once; after that each attempt waits login_backoff_s, doubling, at most the window.
    login_attempts: int = Field(5, ge=1)
    login_window_s: float = Field(900.0, gt=0)
    login_backoff_s: float = Field(15.0, gt=0)

    @property
    def upload_limits(self) -> dict:
        """The keyword arguments of sceneshop.tools.imageio.load_image for a merchant's upload."""
        return {"max_pixels": self.max_pixels, "max_bytes": int(self.max_upload_mb * 2**20)}

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, *args, **kw):
        toml_file = os.environ.get("SCENESHOP_CONFIG", "sceneshop.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
        # Explicit arguments beat the environment, which beats the file.
        return (init_settings, env_settings, toml)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
