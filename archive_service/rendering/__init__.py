"""Pure rendering helpers below the core and every feature: GB/T 9704 page geometry and font roles.

They import nothing of the project, so letters (correspondence) and the archive (归档章, 归档文件目录)
draw with the same sizes and fonts.
"""
