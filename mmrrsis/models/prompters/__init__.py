"""Prompters: text and image features in, prompts for a promptable
segmentation decoder (SAM) out."""
from .cascaded_prompter import CascadedPrompter, PrompterOutput

__all__ = ['CascadedPrompter', 'PrompterOutput']
