"""Local development environment: a real control plane, the emulator and the demo."""
