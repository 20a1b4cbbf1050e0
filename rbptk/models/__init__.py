"""Hand-differentiated dynamics."""

from .gnn import GRUGraphNet, SoftmaxReadout
from .hopfield import HopfieldNet
from .linear import AffineDynamics
from .tanh_rnn import TanhRNN

__all__ = ["AffineDynamics", "GRUGraphNet", "HopfieldNet", "SoftmaxReadout", "TanhRNN"]
