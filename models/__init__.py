"""Risk model code: training, calibration, scaling, policy, reasons, registry (issue 4+)."""
