"""The emulated Windows fleet: WinRM listener, WMI provider dispatch and SPP semantics."""
