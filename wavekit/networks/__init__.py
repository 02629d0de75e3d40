"""Shift-structured recurrent networks and flow equivariance (NumPy/numba, no torch).

Recurrent networks that process moving inputs equivariantly carry the motion in their recurrent
connectivity, which shows up as traveling waves in their hidden states (Keller, Muller, Sejnowski
& Welling, arXiv:2409.13669). This package simulates such networks with known ground truth and
measures their flow equivariance. Conventions (roll direction, convolution vs correlation, FFT
sign) are in ``docs/networks.md``.

Models: :class:`WaveRNN` (rings and torus), :class:`IRNN`, :class:`ConvRNN`,
:class:`NeuralWaveMachine`, :class:`ImageOscillator`, :class:`KuramotoLattice`,
:class:`EquivariantRecurrentLayer` (flow-lifted), :class:`TravelingWaveNetwork`,
:class:`HomomorphicFlowProcessor`. Entry points: :func:`simulate` (kinds in :data:`KINDS`),
:func:`verify_equivariance`, :func:`plane_power_fraction`, :func:`velocity_tuning`.
"""

from .equivariance import (
    EquivarianceResult,
    plane_power_fraction,
    velocity_tuning,
    verify_equivariance,
)
from .flow import EquivariantRecurrentLayer, HomomorphicFlowProcessor
from .kuramoto import KuramotoLattice
from .oscillators import ImageOscillator, NeuralWaveMachine
from .shifts import Flow, translate
from .simulate import KINDS, simulate
from .vocabulary import (
    PropagatorDiagnostics,
    TravelingWaveNetwork,
    propagator_diagnostics,
    seed_propagation_matrix,
)
from .wrnn import IRNN, ConvRNN, WaveRNN

__all__ = [
    "KINDS",
    "IRNN",
    "ConvRNN",
    "EquivarianceResult",
    "EquivariantRecurrentLayer",
    "Flow",
    "HomomorphicFlowProcessor",
    "ImageOscillator",
    "KuramotoLattice",
    "NeuralWaveMachine",
    "PropagatorDiagnostics",
    "TravelingWaveNetwork",
    "WaveRNN",
    "plane_power_fraction",
    "propagator_diagnostics",
    "seed_propagation_matrix",
    "simulate",
    "translate",
    "velocity_tuning",
    "verify_equivariance",
]
