"""One ComponentResource per platform concern, plus naming and the shared interfaces."""
