"""One pipeline run as one TensorBoard run directory. Imports tensorboardX: the tracker imports it when a run starts.

* Metrics: scalars tagged ``<key>`` (``<step>/<key>`` with ``prefix_step_name``)
  at their ``.at_step(n)`` (0 when none).
* Metadata and parameters: text summaries (``<step>/metadata``, ``<step>/parameters``) when logged.
* At the end: one hparams session in the same run directory (every parameter, the
  metric tags, and the run's status as the session status), and a
  ``flowyml/status`` text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tensorboardX import SummaryWriter
from tensorboardX.proto.api_pb2 import Status
from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData, SessionEndInfo
from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboardX.summary import hparams

from flowyml.errors import TrackerError
from flowyml.plugins.types import RunInfo
from flowyml_tensorboard.tags import hparam_values, markdown_table, tags_for

SESSION_END_TAG = "_hparams_/session_end_info"


class TensorboardRunSession:
    """The event file writer of one pipeline run."""

    def __init__(self, run: RunInfo, run_dir: Path, flush_secs: int, prefix_step_name: bool = False) -> None:
        self.info = run
        self.prefix_step_name = prefix_step_name
        self.run_dir = run_dir
        self.flush_secs = flush_secs
        self.writer: Any = None
        self.params: dict[str, Any] = {}
        self.metric_tags: dict[str, None] = {}

    def start(self) -> str:
        """Open the event file writer; the run directory is where the run can be seen (``tensorboard --logdir``)."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(logdir=str(self.run_dir), flush_secs=self.flush_secs)
        except OSError as exc:
            raise TrackerError(
                f"TensorBoard: cannot write event files in {self.run_dir}: {exc.strerror or exc}",
                hint="point experiment_tracker.log_dir at a writable folder",
            ) from exc
        header = {"pipeline": self.info.pipeline_name, "run id": self.info.run_id, "stack": self.info.stack_name, **self.info.tags}
        self.writer.add_text("flowyml/run", markdown_table(header), 0)
        return str(self.run_dir)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None, metadata: Mapping[str, Any], step_name: str) -> None:
        at = step if step is not None else 0
        prefix = f"{step_name}/" if self.prefix_step_name else ""
        for key, tag in tags_for(step_name, metrics, prefix).items():
            self.writer.add_scalar(tag, float(metrics[key]), at)
            self.metric_tags[tag] = None
        if metadata:
            self.writer.add_text(f"{step_name}/metadata", markdown_table(metadata), at)

    def log_params(self, params: Mapping[str, Any], step_name: str) -> None:
        for key, value in params.items():
            if key in self.params and self.params[key] != value:
                raise TrackerError(
                    f"parameter {key!r} is {value!r} in step {step_name!r} but was logged as {self.params[key]!r}: "
                    "one TensorBoard hparams session holds one value per parameter",
                    hint="give the parameters distinct names",
                )
        self.params.update(params)
        self.writer.add_text(f"{step_name}/parameters", markdown_table(params), 0)

    def end(self, status: str) -> None:
        self.writer.add_text("flowyml/status", status, 0)
        if self.params:
            experiment, start, _ = hparams(hparam_values(self.params), dict.fromkeys(self.metric_tags, 0.0))
            for summary in (experiment, start, session_end(status)):
                self.writer.file_writer.add_summary(summary)
        self.writer.flush()
        self.writer.close()
        self.writer = None

    def abandon(self) -> None:
        """Flush and close a writer the core never ended (nothing written is lost)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def session_end(status: str) -> Any:
    """The hparams session-end summary carrying the run's status (success or failure)."""
    info = SessionEndInfo(status=Status.Value("STATUS_SUCCESS" if status == "completed" else "STATUS_FAILURE"))
    content = HParamsPluginData(session_end_info=info, version=0)
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="hparams", content=content.SerializeToString()))
    return Summary(value=[Summary.Value(tag=SESSION_END_TAG, metadata=metadata)])
