"""Patent inventory (盘点建档), self-assessment and the entry workflow.

学院审核 → 学校审核 → 入库.
"""
