"""examples/python/plot_topic.py keeps working: headless, against a Python publisher."""
import os
import subprocess
import sys
import time

import pytest

import shmsnap
from conftest import BUNDLED, DEADLINE_S, SOURCE_DIR


def test_plot_topic_saves_a_png(prefix, tmp_path):
    pytest.importorskip("matplotlib")
    output = tmp_path / "plot.png"
    environment = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    with shmsnap.Publisher("plotted", schema=BUNDLED["robot.pose"], prefix=prefix) as pub:
        pub.publish({"position": {"x": 0.0}})
        example = subprocess.Popen(
            [sys.executable, str(SOURCE_DIR / "examples" / "python" / "plot_topic.py"), "plotted", "--prefix", prefix,
             "--field", "position.x", "--duration", "1", "--save", str(output)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        deadline = time.monotonic() + 3 * DEADLINE_S
        step = 0
        while example.poll() is None and time.monotonic() < deadline:
            step += 1
            pub.publish({"position": {"x": float(step % 50)}})
            time.sleep(0.01)  # the publishing rate (100/s), not synchronisation
        if example.poll() is None:
            example.kill()
        out, err = example.communicate()
    assert example.returncode == 0, err
    assert "saved to" in out and int(out.split()[1]) > 0, out  # "plot_topic: N snapshots of ..."
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
