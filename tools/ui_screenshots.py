"""Screenshots of each dashboard page for docs/ui.md: a fresh quickstart project, `flowyml ui`, headless Chromium.

    python tools/ui_screenshots.py        # writes docs/ui-screenshots/*.png

Needs flowyml-ui and flowyml-tensorboard installed (the run page shown is a
quickstart run on a stack with a TensorBoard tracker, so it links to it),
selenium, and Debian's chromium + chromium-driver.
The PNGs are reduced to a 64-colour palette to keep them small.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "ui" / "tests"))

from ui_support import CHROMEDRIVER, CHROMIUM, UiProject, UiServer, flowyml, free_port, run_id_of  # noqa: E402

OUT = ROOT / "docs" / "ui-screenshots"
TRACKED_STACK = """
  tracked:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    experiment_tracker: { type: tensorboard, log_dir: ./tb-logs }
"""


def main() -> None:
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    work = Path(tempfile.mkdtemp(prefix="flowyml-ui-shots-"))
    project = UiProject(work / "project")
    config = project.path / "flowyml.yaml"
    config.write_text(config.read_text().replace("\nactive_stack:", TRACKED_STACK + "\nactive_stack:"))
    tracked = run_id_of(flowyml(project.path, "run", "pipeline.py", "--stack", "tracked").stdout)
    server = UiServer(project.path, "--port", str(free_port()))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={work / 'profile'}", "--window-size=1200,820", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    base = server.url
    q, x = project.quickstart_run, project.extras_run
    from flowyml import Client

    client = Client(project.path)
    raw = client.get_run(q).steps["load_data"].outputs["output"].artifact_id
    pages = {
        "runs": "",
        "run": f"runs/{tracked}",
        "step": f"runs/{q}/steps/train_model",
        "artifact": f"artifacts/{raw}",
        "metrics": f"runs/{x}/metrics",
        "compare": f"compare?run={q}&run={x}",
        "model": "models/approval_demo?stack=approval",
        "stacks": "stacks?pipeline=pipeline.py",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        for name, path in pages.items():
            driver.get(base + path)
            driver.implicitly_wait(2)
            target = OUT / f"{name}.png"
            driver.save_screenshot(str(target))
            Image.open(target).convert("RGB").quantize(colors=64).save(target, optimize=True)
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KiB")
    finally:
        driver.quit()
        server.stop()
        client.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
