"""Distillation: a small generator taught to paint what a large one paints.

The teacher's pictures are painted once (`pictures`), so a student step needs no teacher pass and only a
small VGG pass now and then (`losses`); `loop` trains the student, resumably, and writes its weights.
"""
