"""密级: this system handles only unclassified (非密) material. The one list of accepted values, used by the
render spec, the letters workflow, the archive import and the API models."""

#: Values that all mean 非密 (blank, 无 and 公开 included); anything else is refused.
NON_CLASSIFIED = ("非密", "", "无", "公开")
