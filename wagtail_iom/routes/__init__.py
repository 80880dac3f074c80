"""Individual educational routes (ИОМ): the model and its roadmap blocks, validation and the
status workflow, the curator's editor, the teacher's side, printed documents and e-mails.
"""
