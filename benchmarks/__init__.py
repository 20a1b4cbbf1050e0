"""Time and memory benchmarks: method against method, rbptk against peers.

python -m benchmarks --help
"""
