// IEEE 754 binary32/binary64 arithmetic on bit patterns, integer instructions only.
