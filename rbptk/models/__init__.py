"""Hand-differentiated dynamics."""

from .linear import AffineDynamics
from .tanh_rnn import TanhRNN

__all__ = ["AffineDynamics", "TanhRNN"]
