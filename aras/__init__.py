"""aras: offline schedules of the ARAS ReRAM processing-in-memory DNN accelerator."""

__version__ = "0.1.0"
