"""The networks: one OpenVINO runner, the verified model store, each model's own decode."""
