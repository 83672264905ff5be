# frame parsing, rewriting, fragments (owned by the frame module)
