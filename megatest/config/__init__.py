"""megatest.config"""
