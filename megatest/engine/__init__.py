"""megatest.engine"""
