"""Experiments the chapters run and measure: gradient flow, the adding problem, exploding gradients."""
