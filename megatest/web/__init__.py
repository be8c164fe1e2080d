"""megatest.web"""
