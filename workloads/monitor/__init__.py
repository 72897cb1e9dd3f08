"""The monitor service (``python -m workloads.monitor``): the champion's quality on recent
labelled data, data drift against its training snapshot, waiting blobs -- on ``/metrics``."""
