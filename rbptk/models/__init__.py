"""Hand-differentiated dynamics."""

from .hopfield import HopfieldNet
from .linear import AffineDynamics
from .tanh_rnn import TanhRNN

__all__ = ["AffineDynamics", "HopfieldNet", "TanhRNN"]
