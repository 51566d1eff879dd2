#!/usr/bin/env python3
"""Reads a TensorBoard event file with TensorBoard's own reader and prints what it found as JSON:
    python3 Tests/Scripts/read_events.py RUN_DIRECTORY
"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0})
accumulator.Reload()
tags = accumulator.Tags()
print(json.dumps({
    "scalars": {tag: [[e.step, e.value] for e in accumulator.Scalars(tag)] for tag in tags["scalars"]},
    "images": {tag: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in accumulator.Images(tag)] for tag in tags["images"]},
}))
