"""Hand-differentiated dynamics."""

from .gnn import GRUGraphNet, SoftmaxReadout
from .gnn_contractive import ContractiveGraphNet
from .hopfield import HopfieldNet
from .linear import AffineDynamics
from .mlp_sgd import MLP, SGDMomentumStep
from .tanh_rnn import TanhRNN

__all__ = [
    "MLP",
    "AffineDynamics",
    "ContractiveGraphNet",
    "GRUGraphNet",
    "HopfieldNet",
    "SGDMomentumStep",
    "SoftmaxReadout",
    "TanhRNN",
]
