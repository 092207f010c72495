"""The generator pipeline: spec/ in, generated/ out, byte for byte the same every time."""
