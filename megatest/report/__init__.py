"""megatest.report"""
