#!/usr/bin/env python3
"""Live matplotlib plot of the numeric fields of any shmsnap topic.

The schema comes from the topic itself (the descriptor every region carries), so
this works for any publisher. Examples, from the repository root (use the interpreter
the package was built for: /usr/bin/python3 unless -DPython3_EXECUTABLE said otherwise):

  # live window, position of a robot pose topic
  PYTHONPATH=build/python /usr/bin/python3 examples/python/plot_topic.py pose --field position.x --field position.y
  # headless: follow for 5 s and save a PNG (Agg backend)
  PYTHONPATH=build/python /usr/bin/python3 examples/python/plot_topic.py pose --duration 5 --save out.png

Fields are dotted paths into the numpy record ("position.x", "bid_price[0]"); by
default the first six scalar numeric fields are plotted.
"""
import argparse
import collections
import re
import sys
import time

import numpy


def scalar_paths(dtype, prefix=""):
    """Dotted paths of the scalar numeric fields of a structured dtype, in layout order."""
    for name in dtype.names:
        field = dtype.fields[name][0]
        path = f"{prefix}{name}"
        if field.names is not None and field.subdtype is None:
            yield from scalar_paths(field, path + ".")
        elif field.subdtype is None and field.kind in "iuf":
            yield path


def value_at(record, path):
    value = record
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)((?:\[\d+\])*)", part)
        if match is None:
            raise SystemExit(f"plot_topic: bad field path '{path}'")
        value = value[match.group(1)]
        for index in re.findall(r"\[(\d+)\]", match.group(2)):
            value = value[int(index)]
    return float(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topic")
    parser.add_argument("--prefix", default=None, help="resource namespace (default $SHMSNAP_PREFIX or 'shmsnap')")
    parser.add_argument("--field", action="append", default=[], help="dotted field path; repeat for several")
    parser.add_argument("--window", type=float, default=10.0, help="seconds of history shown")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--save", default=None, help="write the plot to this PNG at the end (headless, Agg)")
    args = parser.parse_args()

    import matplotlib
    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import shmsnap

    subscriber = shmsnap.Subscriber(args.topic, prefix=args.prefix)
    fields = args.field or list(scalar_paths(subscriber.dtype))[:6]
    if not fields:
        raise SystemExit(f"plot_topic: topic '{args.topic}' has no scalar numeric field; name one with --field")
    history = collections.deque()
    start_ns = None

    def take(update):
        nonlocal start_ns
        if start_ns is None:
            start_ns = update.info.publish_ns
        history.append(((update.info.publish_ns - start_ns) / 1e9, [value_at(update.data, f) for f in fields]))
        while history and history[-1][0] - history[0][0] > args.window:
            history.popleft()

    figure, axes = plt.subplots(len(fields), 1, sharex=True, figsize=(8, 1.6 * len(fields) + 0.8), squeeze=False)
    lines = []
    for axis, field in zip(axes[:, 0], fields):
        (line,) = axis.plot([], [], linewidth=1.2)
        axis.set_ylabel(field, rotation=0, ha="right", va="center", fontsize=9)
        axis.grid(True, alpha=0.3)
        lines.append(line)
    axes[-1, 0].set_xlabel("seconds since the first snapshot (publish time)")
    figure.suptitle(f"shmsnap topic '{args.topic}' ({subscriber.schema['name']})")
    figure.tight_layout()

    def redraw():
        if not history:
            return
        times = numpy.array([t for t, _ in history])
        values = numpy.array([v for _, v in history])
        for column, (axis, line) in enumerate(zip(axes[:, 0], lines)):
            line.set_data(times, values[:, column])
            axis.relim()
            axis.autoscale_view()

    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while deadline is None or time.monotonic() < deadline:
            update = subscriber.wait(timeout=0.05, as_array=True)
            if update is not None:
                take(update)
            if not args.save:
                redraw()
                plt.pause(0.001)
                if not plt.fignum_exists(figure.number):
                    break
    except KeyboardInterrupt:
        pass
    finally:
        subscriber.close()
    redraw()
    if args.save:
        figure.savefig(args.save, dpi=110)
        print(f"plot_topic: {len(history)} snapshots of {', '.join(fields)} saved to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
