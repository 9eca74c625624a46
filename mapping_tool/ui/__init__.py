"""Qt widgets, item models, dialogs and printing: the only code that imports QtWidgets."""
